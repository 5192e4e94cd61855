import type * as ops from '../ops/index.js';

/**
 * `out[i] = factor * t[i]`, `out` as long as `t`. The values are read back
 * first and scaled here: a backend op would, on the compiled backend, move
 * the tensor to the eager backend and back for one multiplication.
 */
export function copyScaled(out: Float32Array, t: ops.Tensor, factor: number): void {
  const values = t.dataSync() as Float32Array;
  if (factor === 1) {
    out.set(values);
    return;
  }
  for (let i = 0; i < values.length; i++) out[i] = values[i] * factor;
}
