import { InvalidArgumentError } from '../src/core/errors.js';
import { foldIn, makeKey, permutation, uniform, type Key } from '../src/core/rng.js';
import { Dataset, FIRST_PASS, type DatasetOperator } from './dataset.js';
import { disposeAll } from './element.js';
import { indexedDataset, remap } from './internal/indexed.js';
import { stage } from './internal/stage.js';

export interface ShuffleOptions {
  /** The random key (src/core/rng); the order of epoch `e` derives from `foldIn(key, e)`. */
  key?: Key;
  /** A seed for the key when no key is given; without either, a random key is drawn once. */
  seed?: number;
  /**
   * For streams (no random access): elements held in the shuffle buffer
   * (default 1024). Indexable sources get a full permutation per epoch and
   * ignore it unless `buffered` is set.
   */
  bufferSize?: number;
  /** Use the buffer shuffle even on an indexable source. */
  buffered?: boolean;
}

/**
 * Shuffles each pass. An indexable source (arrays, tensors, HDF5) gets a full
 * permutation of its indices for every epoch, from `foldIn(key, epoch)`; a
 * stream gets a seeded buffer shuffle holding at most `bufferSize` elements.
 */
export function shuffle<T>(): DatasetOperator<T, T>;
export function shuffle<T>(options: ShuffleOptions): DatasetOperator<T, T>;
export function shuffle<T>(options: ShuffleOptions = {}): DatasetOperator<T, T> {
  const key = options.key ?? makeKey(options.seed);
  const bufferSize = options.bufferSize ?? 1024;
  if (!Number.isInteger(bufferSize) || bufferSize < 1) throw new InvalidArgumentError('shuffle bufferSize', 'a positive integer', bufferSize);
  return (source) => {
    const base = source.info.indexed;
    if (base && !options.buffered) {
      let cached: { epoch: number; perm: Int32Array } | undefined;
      const permFor = (epoch: number): Int32Array => {
        if (cached?.epoch !== epoch) cached = { epoch, perm: permutation(foldIn(key, epoch), base.length) };
        return cached.perm;
      };
      return indexedDataset(
        remap(base, base.length, (i, pass) => permFor(pass.epoch)[i]),
        { shuffled: true },
      );
    }
    return new Dataset<T>(
      (demand, pass = FIRST_PASS) =>
        stage<T>(demand, pass, (io) => {
          const buffer: T[] = [];
          let k = foldIn(key, pass.epoch);
          const up = io.connect(source, { next: (v) => buffer.push(v) });
          return {
            pull() {
              if (!up.isDone()) {
                const need = bufferSize - buffer.length - up.outstanding();
                if (need > 0) up.request(need);
              }
              while (io.wanted() > 0 && buffer.length > 0 && (buffer.length >= bufferSize || up.isDone())) {
                const [u, next] = uniform(k);
                k = next;
                const j = Math.floor(u * buffer.length);
                const picked = buffer[j];
                buffer[j] = buffer[buffer.length - 1];
                buffer.pop();
                io.emit(picked);
              }
              if (up.isDone() && buffer.length === 0) io.complete();
            },
            teardown() {
              disposeAll(buffer.splice(0));
            },
          };
        }),
      { shuffled: true, ...(source.length === undefined ? {} : { length: source.length }) },
    );
  };
}
