import { EmptyDatasetError, InvalidArgumentError } from '../src/core/errors.js';
import type { Dataset } from './dataset.js';
import { indexedDataset, remap } from './internal/indexed.js';

export interface Split<T> {
  train: Dataset<T>;
  validation: Dataset<T>;
}

/** Keras's split point: `floor(n * (1 - fraction))`. */
export function splitAt(n: number, fraction: number): number {
  return Math.floor(n * (1 - fraction));
}

/**
 * Keras's `validation_split`: the last `fraction` of the rows (split point
 * `floor(n * (1 - fraction))`) become the validation set, taken before any
 * shuffling; shuffle `train` afterwards, never `validation`. Needs an
 * indexable source of known length (arrays, tensors, HDF5), as Keras does.
 */
export function splitValidation<T>(fraction: number): (source: Dataset<T>) => Split<T>;
export function splitValidation<T>(fraction: number): (source: Dataset<T>) => Split<T> {
  if (!(fraction > 0 && fraction < 1)) throw new InvalidArgumentError('splitValidation fraction', 'a number in (0, 1)', fraction);
  return (source) => {
    const base = source.info.indexed;
    if (!base)
      throw new InvalidArgumentError('splitValidation source', 'an indexable data set (arrays, tensors, HDF5); split a stream with take/skip', 'a stream');
    if (source.info.shuffled)
      throw new InvalidArgumentError('splitValidation source', 'an unshuffled data set (split first, then shuffle train, as Keras does)', 'a shuffled data set');
    const n = base.length;
    const at = splitAt(n, fraction);
    if (at <= 0 || at >= n)
      throw new EmptyDatasetError(
        'splitValidation',
        `${n} rows are not enough to split with fraction ${fraction}: train would have ${at} and validation ${n - at}`,
      );
    return {
      train: indexedDataset(remap(base, at, (i) => i)),
      validation: indexedDataset(remap(base, n - at, (i) => i + at)),
    };
  };
}
