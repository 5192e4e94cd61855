/**
 * tfjs-core registers no gradient functions when loaded in Node, and its own
 * `register_all_gradients` module does not resolve under Node's ESM loader
 * (extension-less imports). tfjs-layers' Node bundle carries the same
 * gradient table and registers it into tfjs-core's global registry when it
 * is imported; that is the one reason rxkeras depends on tfjs-layers at run
 * time. Nothing else of tfjs-layers is used by the engine.
 */
import '@tensorflow/tfjs-layers';
import type { BackendName } from './backend.js';
import { registerWasmKernels } from './kernels/index.js';

/** Registers the kernels a backend lacks so that every layer trains on it. */
export function registerMissingGradients(backend: BackendName): void {
  if (backend === 'wasm') registerWasmKernels();
}
