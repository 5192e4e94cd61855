import { Observable, Subject, from, type ObservableInput, type Subscription } from 'rxjs';
import { InvalidArgumentError } from '../src/core/errors.js';
import type { Dataset } from './dataset.js';
import { disposeAll } from './element.js';
import { disposeTree } from '../src/core/tree.js';
import type { EdgeOptions } from './to-observable.js';

/**
 * The backpressured edge for asynchronous consumers (a training step, a
 * write): `project` handles one element at a time, like `concatMap`; the
 * next element is asked for only when an earlier one is done, so at most
 * `prefetch` elements wait plus the one being handled. The element is lent
 * to `project` and disposed when its Observable completes, errors or is
 * unsubscribed (clone what must outlive it).
 */
export function consume<T, R>(dataset: Dataset<T>, project: (value: T, index: number) => ObservableInput<R>, options?: EdgeOptions): Observable<R>;
export function consume<T, R>(
  dataset: Dataset<T>,
  project: (value: T, index: number) => ObservableInput<R>,
  options: EdgeOptions = {},
): Observable<R> {
  const prefetch = options.prefetch ?? 1;
  if (!Number.isInteger(prefetch) || prefetch < 1) throw new InvalidArgumentError('prefetch', 'a positive integer', prefetch);
  return new Observable<R>((subscriber) => {
    const demand = new Subject<number>();
    const waiting: T[] = [];
    let active: { value: T; sub?: Subscription } | undefined;
    let sourceDone = false;
    let closed = false;
    let index = 0;
    const finishIfDone = (): void => {
      if (sourceDone && !active && waiting.length === 0 && !closed) {
        closed = true;
        subscriber.complete();
      }
    };
    const fail = (err: unknown): void => {
      if (closed) return;
      closed = true;
      subscriber.error(err);
    };
    let starting = false;
    let again = false;
    const startNext = (): void => {
      if (starting) {
        again = true;
        return;
      }
      starting = true;
      try {
        do {
          again = false;
          startOne();
        } while (again);
      } finally {
        starting = false;
      }
      finishIfDone();
    };
    const startOne = (): void => {
      while (!active && waiting.length > 0 && !closed) {
        const value = waiting.shift() as T;
        const current: { value: T; sub?: Subscription } = { value };
        active = current;
        let finished = false;
        const done = (): void => {
          finished = true;
          disposeTree(value);
          if (active === current) active = undefined;
        };
        let input: ObservableInput<R>;
        try {
          input = project(value, index++);
        } catch (err) {
          done();
          fail(err);
          return;
        }
        const sub = from(input).subscribe({
          next: (r) => {
            if (!closed) subscriber.next(r);
          },
          error(err) {
            done();
            fail(err);
          },
          complete() {
            done();
            if (!closed) demand.next(1);
            startNext();
          },
        });
        if (!finished) current.sub = sub;
      }
    };
    const upstream = dataset.open(demand, { epoch: options.epoch ?? 0 }).subscribe({
      next(v) {
        if (closed) {
          disposeTree(v);
          return;
        }
        waiting.push(v);
        startNext();
      },
      error: fail,
      complete() {
        sourceDone = true;
        finishIfDone();
      },
    });
    subscriber.add(() => {
      closed = true;
      upstream.unsubscribe();
      if (active) {
        active.sub?.unsubscribe();
        disposeTree(active.value);
        active = undefined;
      }
      disposeAll(waiting.splice(0));
    });
    demand.next(prefetch);
  });
}
