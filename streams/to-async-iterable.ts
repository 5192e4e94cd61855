import { Subject } from 'rxjs';
import { InvalidArgumentError } from '../src/core/errors.js';
import type { Dataset } from './dataset.js';
import { disposeAll } from './element.js';
import type { EdgeOptions } from './to-observable.js';

/**
 * One pass as an AsyncIterable: `for await` pulls, and at most `prefetch`
 * elements are asked for ahead of the loop. Each element yielded belongs to
 * the loop body. Breaking out of the loop unsubscribes the pass, which
 * disposes what it held.
 */
export function toAsyncIterable<T>(dataset: Dataset<T>, options?: EdgeOptions): AsyncIterable<T>;
export function toAsyncIterable<T>(dataset: Dataset<T>, options: EdgeOptions = {}): AsyncIterable<T> {
  const prefetch = options.prefetch ?? 1;
  if (!Number.isInteger(prefetch) || prefetch < 1) throw new InvalidArgumentError('prefetch', 'a positive integer', prefetch);
  return {
    async *[Symbol.asyncIterator]() {
      const demand = new Subject<number>();
      const ready: T[] = [];
      let done = false;
      let failure: { err: unknown } | undefined;
      let wake: (() => void) | undefined;
      const notify = (): void => {
        wake?.();
        wake = undefined;
      };
      const sub = dataset.open(demand, { epoch: options.epoch ?? 0 }).subscribe({
        next(v) {
          ready.push(v);
          notify();
        },
        error(err) {
          failure = { err };
          notify();
        },
        complete() {
          done = true;
          notify();
        },
      });
      try {
        demand.next(prefetch);
        for (;;) {
          if (ready.length > 0) {
            const v = ready.shift() as T;
            demand.next(1);
            yield v;
            continue;
          }
          if (failure) throw failure.err;
          if (done) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        sub.unsubscribe();
        disposeAll(ready.splice(0));
      }
    },
  };
}
