import * as tf from '@tensorflow/tfjs-core';
import { COMPILED_BACKEND, compiledBackend } from './backend.js';
import { MissingLoweringError } from './errors.js';

interface EngineInternals {
  backendName: string;
  backendInstance: tf.KernelBackend;
}

const unregistered = new RegExp(`Kernel '([^']+)' not registered for backend '${COMPILED_BACKEND}'`);

/**
 * Runs `fn` with the compiled backend active: every kernel it calls is
 * traced, and what is still pending when it returns is computed as one
 * graph. The active backend is switched directly (tfjs's setBackend would
 * re-run every kernel's set-up of the eager backend twice a step). A kernel
 * without a lowering rejects with MissingLoweringError, after the region's
 * recording is discarded.
 */
export function compiled<T>(fn: () => T): T {
  const backend = compiledBackend();
  const engine = tf.engine() as unknown as EngineInternals;
  const name = engine.backendName;
  const instance = engine.backendInstance;
  if (name === COMPILED_BACKEND) return fn();
  engine.backendName = COMPILED_BACKEND;
  engine.backendInstance = backend;
  backend.active = true;
  try {
    const result = fn();
    backend.flush();
    return result;
  } catch (error) {
    backend.discard();
    const missing = unregistered.exec((error as Error)?.message ?? '');
    throw missing ? new MissingLoweringError(missing[1]) : error;
  } finally {
    backend.active = false;
    engine.backendName = name;
    engine.backendInstance = instance;
  }
}

/** Whether a compiled region is running (without loading ONNX Runtime when none ever ran). */
export function inCompiledRegion(): boolean {
  return tf.engine().backendName === COMPILED_BACKEND;
}
