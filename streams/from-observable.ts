import type { Observable } from 'rxjs';
import { BufferOverflowError, EmptyDatasetError } from '../src/core/errors.js';
import { Dataset, FIRST_PASS } from './dataset.js';
import { disposeAll } from './element.js';
import { stage } from './internal/stage.js';

export interface FromObservableOptions {
  /** Most elements held while the consumer has not asked for them (default 1024); beyond it the pass fails. */
  bufferSize?: number;
  allowEmpty?: boolean;
}

/**
 * A data set from any Observable: each pass subscribes to it once. An
 * Observable pushes and cannot be paused, so the elements it emits before
 * they are asked for wait in a bounded buffer; overflowing it fails the pass
 * with BufferOverflowError instead of growing without bound. For a source
 * that must wait for the consumer use fromAsyncIterable or fromGenerator.
 */
export function fromObservable<T>(source: Observable<T>, options?: FromObservableOptions): Dataset<T>;
export function fromObservable<T>(source: Observable<T>, options: FromObservableOptions = {}): Dataset<T> {
  const limit = options.bufferSize ?? 1024;
  return new Dataset<T>((demand, pass = FIRST_PASS) =>
    stage<T>(demand, pass, (io) => {
      const buffer: T[] = [];
      let ended = false;
      let count = 0;
      const sub = source.subscribe({
        next(v) {
          count++;
          buffer.push(v);
          if (buffer.length > limit) io.error(new BufferOverflowError('fromObservable', limit));
          else io.wake();
        },
        error: (err) => io.error(err),
        complete() {
          ended = true;
          io.wake();
        },
      });
      return {
        pull() {
          while (io.wanted() > 0 && buffer.length > 0) io.emit(buffer.shift() as T);
          if (ended && buffer.length === 0) {
            if (count === 0 && !options.allowEmpty) io.error(new EmptyDatasetError('fromObservable', 'the observable completed without an element'));
            else io.complete();
          }
        },
        teardown() {
          sub.unsubscribe();
          disposeAll(buffer.splice(0));
        },
      };
    }),
  );
}
