import type * as ops from '../ops/index.js';
import { readInto } from '../ops/compiled/index.js';

/**
 * `out[i] = factor * t[i]`, `out` as long as `t`. The values are read back
 * first and scaled here: a backend op would, on the compiled backend, move
 * the tensor to the eager backend and back for one multiplication.
 */
export function copyScaled(out: Float32Array, t: ops.Tensor, factor: number): void {
  if (factor === 1) {
    readInto(t, out);
    return;
  }
  const values = t.dataSync() as Float32Array;
  for (let i = 0; i < values.length; i++) out[i] = values[i] * factor;
}
