import { InvalidArgumentError } from '../src/core/errors.js';
import { Dataset, FIRST_PASS, type DatasetOperator } from './dataset.js';
import { disposeTree } from '../src/core/tree.js';
import { indexedDataset, remap } from './internal/indexed.js';
import { stage } from './internal/stage.js';

/** Drops (and disposes) the first `count` elements. On an indexable source nothing is read for them. */
export function skip<T>(count: number): DatasetOperator<T, T>;
export function skip<T>(count: number): DatasetOperator<T, T> {
  if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentError('skip count', 'an integer >= 0', count);
  return (source) => {
    const base = source.info.indexed;
    if (base) return indexedDataset(remap(base, Math.max(0, base.length - count), (i) => i + count), { shuffled: source.info.shuffled });
    return new Dataset<T>(
      (demand, pass = FIRST_PASS) =>
        stage<T>(demand, pass, (io) => {
          let skipped = 0;
          const up = io.connect(source, {
            next(v) {
              if (skipped < count) {
                skipped++;
                disposeTree(v);
              } else io.emit(v);
            },
            complete: () => io.complete(),
          });
          return {
            pull() {
              if (io.wanted() <= 0) return;
              const need = io.wanted() + (count - skipped) - up.outstanding();
              if (need > 0) up.request(need);
            },
          };
        }),
      { shuffled: source.info.shuffled, ...(source.length === undefined ? {} : { length: Math.max(0, source.length - count) }) },
    );
  };
}
