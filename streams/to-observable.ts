import { Observable, Subject } from 'rxjs';
import { InvalidArgumentError } from '../src/core/errors.js';
import type { Dataset } from './dataset.js';
import { disposeTree } from '../src/core/tree.js';

export interface EdgeOptions {
  /** Elements asked for ahead of the one being consumed (default 1). */
  prefetch?: number;
  /** The epoch of the pass (drives shuffle order); default 0. */
  epoch?: number;
}

/**
 * One pass as a plain Observable, for a consumer that handles each element
 * synchronously inside `next` (tfjs ops on the cpu and wasm backends are
 * synchronous): `prefetch` elements are asked for at subscription and one
 * more after each `next` returns. The subscriber owns each element it
 * receives. For asynchronous consumers use `consume` or `toAsyncIterable`.
 */
export function toObservable<T>(dataset: Dataset<T>, options?: EdgeOptions): Observable<T>;
export function toObservable<T>(dataset: Dataset<T>, options: EdgeOptions = {}): Observable<T> {
  const prefetch = options.prefetch ?? 1;
  if (!Number.isInteger(prefetch) || prefetch < 1) throw new InvalidArgumentError('prefetch', 'a positive integer', prefetch);
  return new Observable<T>((subscriber) => {
    const demand = new Subject<number>();
    const sub = dataset.open(demand, { epoch: options.epoch ?? 0 }).subscribe({
      next(v) {
        if (subscriber.closed) {
          disposeTree(v);
          return;
        }
        subscriber.next(v);
        if (!subscriber.closed) demand.next(1);
      },
      error: (e) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
    subscriber.add(sub);
    demand.next(prefetch);
  });
}
