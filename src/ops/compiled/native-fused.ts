/**
 * The fused optimizer updates of rxkeras's ONNX Runtime addon
 * (native/ort-session/src/fused-update.cc): native/fused-update's kernels
 * with eight AVX2 lanes where the WebAssembly ones have four, over the same
 * memory, with the same arguments and bit for bit the same results. The
 * WebAssembly kernels compute Adam at about one float a nanosecond on these
 * machines, held up by the square root and the division; the update of a
 * step's weights took a tenth of a replica's CPU. Where the addon is not
 * loaded, the CPU has no AVX2, or RXKERAS_FUSED_UPDATE=wasm, the
 * WebAssembly kernels run.
 */
import { ortAddon } from '../onnx/native-session.js';
import type { FusedKernels } from './wasm-heap.js';

/** What the addon exports: each kernel of FusedKernels with a Uint8Array over the whole memory first. */
export interface NativeFusedUpdate {
  sgd(memory: Uint8Array, ...args: Parameters<FusedKernels['sgd']>): void;
  adam(memory: Uint8Array, ...args: Parameters<FusedKernels['adam']>): void;
  rmsprop(memory: Uint8Array, ...args: Parameters<FusedKernels['rmsprop']>): void;
}

/** Set to `wasm` to run the WebAssembly kernels where the native ones would load (to compare them). */
export const FUSED_UPDATE_ENV = 'RXKERAS_FUSED_UPDATE';

/**
 * The native kernels over `memory` (a WebAssembly memory: its buffer is
 * read at every call, as growing replaces it), with `wasm`'s heap base; or
 * `wasm` itself where the native ones are unavailable.
 */
export function fastestFusedKernels(memory: { readonly buffer: ArrayBufferLike }, wasm: FusedKernels): FusedKernels {
  const addon = ortAddon();
  const native = typeof addon === 'string' || process.env[FUSED_UPDATE_ENV] === 'wasm' ? undefined : addon.fusedUpdate;
  if (!native) return wasm;
  let view = new Uint8Array(memory.buffer);
  const bytes = () => (view.buffer === memory.buffer ? view : (view = new Uint8Array(memory.buffer)));
  return {
    heapBase: () => wasm.heapBase(),
    sgd: (...args) => native.sgd(bytes(), ...args),
    adam: (...args) => native.adam(bytes(), ...args),
    rmsprop: (...args) => native.rmsprop(bytes(), ...args),
  };
}

/** Whether fastestFusedKernels gives the native kernels here (for tests and benches). */
export function nativeFusedKernelsLoad(): boolean {
  const addon = ortAddon();
  return typeof addon !== 'string' && addon.fusedUpdate !== undefined && process.env[FUSED_UPDATE_ENV] !== 'wasm';
}
