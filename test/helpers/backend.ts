import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/ops/tfjs/backend.js';

/** Initialises the default backend (wasm here) once, quietly; tests await it at top level. */
export const backendReady = initBackend({ quiet: true });

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
