import type { ColumnArray } from './hdf5-slices.js';

/** An array lent by a pool: give it back with `release` (once; later calls do nothing). */
export interface LentArray {
  readonly data: ColumnArray;
  release(): void;
}

/**
 * Arrays of one column's batch (one type, one length), lent and given back,
 * so that a steady stream of batches allocates no memory: fresh 800 kB
 * arrays per batch made V8 collect the whole heap every few steps
 * (external memory pressure), measured in bench:ooc.
 */
export class ArrayPool {
  private readonly free: ColumnArray[] = [];

  constructor(
    private readonly dtype: 'float32' | 'int32',
    private readonly length: number,
  ) {}

  /** A copy of `source` in a pooled array; a shorter source (a last, partial batch) gets an array of its own. */
  copy(source: ColumnArray): LentArray {
    if (source.length !== this.length) return { data: source.slice(), release: () => {} };
    const data = this.free.pop() ?? (this.dtype === 'int32' ? new Int32Array(this.length) : new Float32Array(this.length));
    data.set(source);
    let lent = true;
    return {
      data,
      release: () => {
        if (lent) this.free.push(data);
        lent = false;
      },
    };
  }
}
