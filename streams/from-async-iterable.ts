import { EmptyDatasetError } from '../src/core/errors.js';
import { Dataset, FIRST_PASS } from './dataset.js';
import { disposeTree } from '../src/core/tree.js';
import { stage } from './internal/stage.js';

export type IterableSource<T> = AsyncIterable<T> | Iterable<T>;

export interface FromIterableOptions {
  /** Name used in error messages. */
  name?: string;
  /** When false (the default) a pass that yields nothing fails with EmptyDatasetError. */
  allowEmpty?: boolean;
}

/**
 * A data set pulled from an (async) iterable. `next()` is called only when
 * the consumer has asked for an element, one call at a time, so a generator
 * that reads a file never runs ahead. Pass a factory to make every pass (every
 * epoch) start a fresh iteration; a bare async generator object can be
 * iterated only once. On unsubscribe the iterator's `return()` is called.
 */
export function fromAsyncIterable<T>(source: IterableSource<T> | (() => IterableSource<T>), options?: FromIterableOptions): Dataset<T>;
export function fromAsyncIterable<T>(source: IterableSource<T> | (() => IterableSource<T>), options: FromIterableOptions = {}): Dataset<T> {
  const name = options.name ?? 'fromAsyncIterable';
  return new Dataset<T>((demand, pass = FIRST_PASS) =>
    stage<T>(demand, pass, (io) => {
      const iterable = typeof source === 'function' ? source() : source;
      const it: Iterator<T> | AsyncIterator<T> =
        Symbol.asyncIterator in iterable ? (iterable as AsyncIterable<T>)[Symbol.asyncIterator]() : (iterable as Iterable<T>)[Symbol.iterator]();
      let busy = false;
      let finished = false;
      let count = 0;
      const onResult = (r: IteratorResult<T>): void => {
        if (io.isClosed()) {
          if (!r.done) disposeTree(r.value);
          return;
        }
        if (r.done) {
          finished = true;
          if (count === 0 && !options.allowEmpty) io.error(new EmptyDatasetError(name, 'the source yielded no element'));
          else io.complete();
        } else {
          count++;
          io.emit(r.value);
        }
      };
      return {
        pull() {
          if (busy || finished || io.wanted() <= 0) return;
          const r = it.next();
          if (r instanceof Promise) {
            busy = true;
            r.then(
              (res) => {
                busy = false;
                onResult(res);
                io.wake();
              },
              (err) => {
                busy = false;
                finished = true;
                io.error(err);
              },
            );
          } else onResult(r as IteratorResult<T>);
        },
        teardown() {
          if (finished) return;
          finished = true;
          try {
            const r = it.return?.();
            if (r instanceof Promise) r.catch(() => undefined);
          } catch {
            /* ignore */
          }
        },
      };
    }),
  );
}
