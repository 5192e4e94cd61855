/**
 * The fused optimizer updates of rxkeras's ONNX Runtime addon
 * (native/ort-session/src/fused-update.cc): native/fused-update's kernels
 * with eight AVX2 lanes where the WebAssembly ones have four, over the same
 * memory, with the same arguments and bit for bit the same results. The
 * WebAssembly kernels compute Adam at about one float a nanosecond on these
 * machines, held up by the square root and the division, and the update
 * took a tenth of a data-parallel replica's CPU (perf, bench:parallel's
 * MLP); these are 1.5-1.9x as fast (`npm run bench:update`), where memory
 * then bounds them. Where the addon is not loaded, the CPU has no AVX2, or
 * RXKERAS_FUSED_UPDATE=wasm, the WebAssembly kernels run.
 */
import { ortAddon } from '../onnx/native-session.js';

/** The kernels' exports (see native/fused-update/fused-update.ts for their arguments). */
export interface FusedKernels {
  heapBase(): number;
  // With `twoGrads`, the gradient is g + g2 (see native/fused-update).
  sgd(p: number, g: number, g2: number, mom: number, pOut: number, momOut: number, n: number, nlr: number, d: number, useMomentum: number, nesterov: number, twoGrads: number): void;
  adam(p: number, g: number, g2: number, m: number, v: number, vh: number, pOut: number, mOut: number, vOut: number, vhOut: number, n: number,
    b1: number, c1: number, b2: number, c2: number, alpha: number, eps: number, nlr: number, amsgrad: number, twoGrads: number): void;
  rmsprop(p: number, g: number, g2: number, rms: number, mg: number, mom: number, pOut: number, rmsOut: number, mgOut: number, momOut: number, n: number,
    rho: number, c: number, eps: number, lr: number, nlr: number, d: number, centered: number, useMomentum: number, twoGrads: number): void;
}

/** Set to `wasm` to run the WebAssembly kernels where the native ones would load (to compare them). */
const FUSED_UPDATE_ENV = 'RXKERAS_FUSED_UPDATE';

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
