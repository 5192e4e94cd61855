import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/ops/tfjs/backend.js';

/**
 * Initialises the backend once, quietly; tests await it at top level. Tests
 * run eagerly on wasm (the reference) unless RXKERAS_BACKEND names another:
 * `RXKERAS_BACKEND=compiled npm test` runs the suite with compiled steps.
 */
export const backendReady = initBackend({ quiet: true, backend: process.env.RXKERAS_BACKEND || 'wasm' });

/** Runs `f` on the named backend, then switches back to the one that was active. */
export async function onBackend<T>(name: 'cpu' | 'wasm', f: () => T | Promise<T>): Promise<T> {
  await backendReady;
  if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  const previous = tf.getBackend();
  await tf.setBackend(name);
  try {
    return await f();
  } finally {
    await tf.setBackend(previous);
  }
}
