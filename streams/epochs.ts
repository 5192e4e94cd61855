import { range, map as rxMap, type Observable } from 'rxjs';
import { InvalidArgumentError } from '../src/core/errors.js';
import { Dataset, type DatasetOperator, type Indexed } from './dataset.js';

/** One epoch: its number, and the data set bound to it. */
export interface EpochPass<T> {
  readonly epoch: number;
  readonly data: Dataset<T>;
}

/** Binds a data set to one epoch: every pass it opens is that epoch's (its shuffle order). */
export function withEpoch<T>(epoch: number): DatasetOperator<T, T>;
export function withEpoch<T>(epoch: number): DatasetOperator<T, T> {
  return (source) => {
    const pass = { epoch };
    const base = source.info.indexed;
    const openOrder = base?.openOrder?.bind(base);
    const indexed: Indexed<T> | undefined = base && {
      length: base.length,
      read: (idx) => base.read(idx, pass),
      ...(openOrder && { openOrder: (at: (i: number) => number, n: number, demand: Observable<number>) => openOrder(at, n, demand, pass) }),
    };
    return new Dataset<T>((demand) => source.open(demand, pass), { ...source.info, ...(indexed ? { indexed } : {}) });
  };
}

/**
 * The epochs of training as a cold Observable: epoch `e` is the source
 * re-opened with its own epoch number, so a shuffle draws the order derived
 * from its key and `e`. The consumer pulls each epoch's data with backpressure
 * (e.g. with `consume`), then moves to the next.
 */
export function epochs<T>(count: number): (source: Dataset<T>) => Observable<EpochPass<T>>;
export function epochs<T>(count: number, options: { initialEpoch?: number }): (source: Dataset<T>) => Observable<EpochPass<T>>;
export function epochs<T>(count: number, options: { initialEpoch?: number } = {}): (source: Dataset<T>) => Observable<EpochPass<T>> {
  if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentError('epochs', 'an integer >= 0', count);
  const initial = options.initialEpoch ?? 0;
  return (source) => range(initial, Math.max(0, count - initial)).pipe(rxMap((epoch) => ({ epoch, data: source.pipe(withEpoch<T>(epoch)) })));
}
