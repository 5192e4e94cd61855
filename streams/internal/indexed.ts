import type { Observable } from 'rxjs';
import { Dataset, FIRST_PASS, type DatasetInfo, type Indexed, type Pass } from '../dataset.js';
import { indexRange, stage } from './stage.js';

/**
 * A data set backed by random access. A pass reads exactly the elements that
 * were asked for, at most `blockSize` per read, in index order (or, when the
 * source has `openOrder`, lets it serve the pass in index order).
 */
export function indexedDataset<T>(indexed: Indexed<T>, info: Omit<DatasetInfo<T>, 'indexed' | 'length'> = {}, blockSize = 256): Dataset<T> {
  const openOrder = indexed.openOrder?.bind(indexed);
  if (openOrder) return new Dataset<T>((demand, pass = FIRST_PASS) => openOrder((i) => i, indexed.length, demand, pass), { ...info, indexed });
  return new Dataset<T>(
    (demand, pass: Pass = FIRST_PASS) =>
      stage<T>(demand, pass, (io) => {
        let next = 0;
        return {
          pull() {
            const n = Math.min(io.wanted(), blockSize, indexed.length - next);
            if (n > 0) {
              const idx = indexRange(next, n);
              next += n;
              for (const el of indexed.read(idx, pass)) io.emit(el);
            }
            if (next >= indexed.length) io.complete();
          },
        };
      }),
    { ...info, indexed },
  );
}

/** An indexed view through an index map (take, skip, shard, split, shuffle); a base's `openOrder` is kept. */
export function remap<T>(base: Indexed<T>, length: number, at: (i: number, pass: Pass) => number): Indexed<T> {
  const openOrder = base.openOrder?.bind(base);
  return {
    length,
    read(indices, pass) {
      const mapped = new Int32Array(indices.length);
      for (let k = 0; k < indices.length; k++) mapped[k] = at(indices[k], pass);
      return base.read(mapped, pass);
    },
    ...(openOrder && { openOrder: (order: (i: number) => number, n: number, demand: Observable<number>, pass: Pass) => openOrder((i) => at(order(i), pass), n, demand, pass) }),
  };
}
