import { from, take, type ObservableInput, type Subscription } from 'rxjs';
import { Dataset, FIRST_PASS } from './dataset.js';
import { disposeTree } from '../src/core/tree.js';
import { stage } from './internal/stage.js';

/**
 * A data set whose element `i` is produced on request by `produce(i)` (a
 * value, a Promise or an Observable; its first value is the element). Elements
 * are produced one at a time and only when asked for; the pass ends after
 * `length` elements, or when `produce` completes without a value.
 */
export function generate<T>(produce: (index: number) => ObservableInput<T>, options?: { length?: number }): Dataset<T>;
export function generate<T>(produce: (index: number) => ObservableInput<T>, options: { length?: number } = {}): Dataset<T> {
  const length = options.length ?? Infinity;
  return new Dataset<T>(
    (demand, pass = FIRST_PASS) =>
      stage<T>(demand, pass, (io) => {
        let index = 0;
        let current: Subscription | undefined;
        let busy = false;
        return {
          pull() {
            if (busy) return;
            if (index >= length) {
              io.complete();
              return;
            }
            if (io.wanted() <= 0) return;
            busy = true;
            let got = false;
            const i = index++;
            current = from(produce(i))
              .pipe(take(1))
              .subscribe({
                next(v) {
                  got = true;
                  if (io.isClosed()) disposeTree(v);
                  else io.emit(v);
                },
                error: (err) => io.error(err),
                complete() {
                  busy = false;
                  if (!got) io.complete();
                  else io.wake();
                },
              });
          },
          teardown() {
            current?.unsubscribe();
          },
        };
      }),
    Number.isFinite(length) ? { length } : {},
  );
}
