import { InvalidArgumentError } from '../src/core/errors.js';
import { Dataset, FIRST_PASS, type Indexed } from './dataset.js';
import { disposeAll } from './element.js';
import { indexedDataset } from './internal/indexed.js';
import { stage, type Upstream } from './internal/stage.js';

/**
 * Pairs the i-th elements of several data sets (e.g. HDF5 data sets for x and
 * y); ends with the shortest, disposing what the others had ready. Each
 * source is asked for exactly as many elements as the consumer asked for.
 */
export function zip<A, B>(a: Dataset<A>, b: Dataset<B>): Dataset<[A, B]>;
export function zip<A, B, C>(a: Dataset<A>, b: Dataset<B>, c: Dataset<C>): Dataset<[A, B, C]>;
export function zip<T extends unknown[]>(...sources: { [K in keyof T]: Dataset<T[K]> }): Dataset<T>;
export function zip(...sources: Dataset<unknown>[]): Dataset<unknown[]> {
  if (sources.length === 0) throw new InvalidArgumentError('zip', 'at least one data set', 0);
  const indexed = sources.map((s) => s.info.indexed);
  if (indexed.every((i): i is Indexed<unknown> => i !== undefined)) {
    const length = Math.min(...indexed.map((i) => i.length));
    return indexedDataset<unknown[]>({
      length,
      read(indices, pass) {
        const cols = indexed.map((i) => i.read(indices, pass));
        return Array.from(indices, (_, k) => cols.map((c) => c[k]));
      },
    });
  }
  const lengths = sources.map((s) => s.length);
  return new Dataset<unknown[]>(
    (demand, pass = FIRST_PASS) =>
      stage<unknown[]>(demand, pass, (io) => {
        const queues: unknown[][] = sources.map(() => []);
        const ups: Upstream[] = sources.map((s, k) => io.connect(s, { next: (v) => queues[k].push(v) }));
        return {
          pull() {
            while (io.wanted() > 0 && queues.every((q) => q.length > 0)) io.emit(queues.map((q) => q.shift()));
            if (ups.some((u, k) => u.isDone() && queues[k].length === 0)) {
              io.complete();
              return;
            }
            ups.forEach((u, k) => {
              const need = io.wanted() - queues[k].length - u.outstanding();
              if (need > 0) u.request(need);
            });
          },
          teardown() {
            for (const q of queues) disposeAll(q.splice(0));
          },
        };
      }),
    lengths.every((n) => n !== undefined) ? { length: Math.min(...(lengths as number[])) } : {},
  );
}
