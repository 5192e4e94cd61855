import * as ops from '../src/ops/index.js';
import { DataCardinalityError, EmptyDatasetError } from '../src/core/errors.js';
import type { Dataset } from './dataset.js';
import type { Example } from './element.js';
import { indexedDataset } from './internal/indexed.js';

/** A row: a number, a nested number array, or a typed array (read as a vector). */
export type Row = number | readonly number[] | readonly (readonly number[])[] | readonly (readonly (readonly number[])[])[] | Float32Array | Int32Array | Uint8Array;

/**
 * An indexable data set over plain JS rows (`x[i]`, `y[i]`, `sampleWeight[i]`).
 * Nothing is turned into a tensor until an element is read, so the arrays
 * may be larger than what fits in tensor memory. Each element owns its tensors.
 */
export function fromArrays(x: ArrayLike<Row>, y?: ArrayLike<Row>, sampleWeight?: ArrayLike<number>): Dataset<Example>;
export function fromArrays(x: ArrayLike<Row>, y?: ArrayLike<Row>, sampleWeight?: ArrayLike<number>): Dataset<Example> {
  const lengths: Record<string, number> = { x: x.length };
  if (y !== undefined) lengths.y = y.length;
  if (sampleWeight !== undefined) lengths.sampleWeight = sampleWeight.length;
  if (new Set(Object.values(lengths)).size > 1) throw new DataCardinalityError('fromArrays', lengths);
  if (x.length === 0) throw new EmptyDatasetError('fromArrays', 'x has 0 rows');
  const toT = (r: Row): ops.Tensor =>
    typeof r === 'number' ? ops.scalar(r) : ArrayBuffer.isView(r) ? ops.tensor1d(r as Float32Array) : ops.tensor(r as number[]);
  return indexedDataset<Example>({
    length: x.length,
    read(indices) {
      return Array.from(indices, (i) => {
        const e: Example = { x: toT(x[i]) };
        if (y !== undefined) e.y = toT(y[i]);
        if (sampleWeight !== undefined) e.sampleWeight = ops.scalar(sampleWeight[i]);
        return e;
      });
    },
  });
}
