import { InvalidArgumentError } from '../src/core/errors.js';
import { Dataset, FIRST_PASS, type DatasetOperator } from './dataset.js';
import { disposeTree } from '../src/core/tree.js';
import { indexedDataset, remap } from './internal/indexed.js';
import { stage } from './internal/stage.js';

/**
 * Every `count`-th element starting at `index` (tf.data's shard): shards
 * `0..count-1` partition the data. On an indexable source a shard reads only
 * its own rows; on a stream the other rows are read and disposed.
 */
export function shard<T>(count: number, index: number): DatasetOperator<T, T>;
export function shard<T>(count: number, index: number): DatasetOperator<T, T> {
  if (!Number.isInteger(count) || count < 1) throw new InvalidArgumentError('shard count', 'a positive integer', count);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new InvalidArgumentError('shard index', `an integer in [0, ${count})`, index);
  const lengthOf = (n: number): number => Math.max(0, Math.ceil((n - index) / count));
  return (source) => {
    const base = source.info.indexed;
    if (base) return indexedDataset(remap(base, lengthOf(base.length), (i) => i * count + index), { shuffled: source.info.shuffled });
    return new Dataset<T>(
      (demand, pass = FIRST_PASS) =>
        stage<T>(demand, pass, (io) => {
          let position = 0;
          const up = io.connect(source, {
            next(v) {
              if (position++ % count === index) io.emit(v);
              else disposeTree(v);
            },
            complete: () => io.complete(),
          });
          return {
            pull() {
              const wanted = io.wanted();
              if (wanted <= 0) return;
              // Rows up to the wanted-th next row of this shard, less those already asked for.
              const nextKept = position + ((index - (position % count) + count) % count);
              const need = nextKept + (wanted - 1) * count + 1 - (position + up.outstanding());
              if (need > 0) up.request(need);
            },
          };
        }),
      { shuffled: source.info.shuffled, ...(source.length === undefined ? {} : { length: lengthOf(source.length) }) },
    );
  };
}
