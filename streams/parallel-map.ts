import { from, take, type ObservableInput, type Subscription } from 'rxjs';
import { InvalidArgumentError } from '../src/core/errors.js';
import { Dataset, FIRST_PASS, type DatasetOperator } from './dataset.js';
import { disposeReplaced, disposeTree } from '../src/core/tree.js';
import { stage } from './internal/stage.js';

export interface ParallelMapOptions {
  /** Most projections running or finished-but-unconsumed at once (default 4). */
  concurrency?: number;
}

interface Slot<A, B> {
  input: A;
  done: boolean;
  has: boolean;
  value?: B;
  sub?: Subscription;
  /** A Promise cannot be cancelled: its result is awaited and disposed instead. */
  promise: boolean;
}

/**
 * An order-preserving asynchronous map: up to `concurrency` projections run at
 * once, and results leave in input order. The input is lent to `project`
 * until its result arrives; then the input's tensors that the result does not
 * reuse are disposed. A projection that completes without a value drops its
 * element. It runs ahead of demand by at most `concurrency` elements.
 */
export function parallelMap<A, B>(project: (value: A, index: number) => ObservableInput<B>): DatasetOperator<A, B>;
export function parallelMap<A, B>(project: (value: A, index: number) => ObservableInput<B>, options: ParallelMapOptions): DatasetOperator<A, B>;
export function parallelMap<A, B>(project: (value: A, index: number) => ObservableInput<B>, options: ParallelMapOptions = {}): DatasetOperator<A, B> {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new InvalidArgumentError('parallelMap concurrency', 'a positive integer', concurrency);
  return (source) =>
    new Dataset<B>(
      (demand, pass = FIRST_PASS) =>
        stage<B>(demand, pass, (io) => {
          const slots: Slot<A, B>[] = [];
          let index = 0;
          const up = io.connect(source, {
            next(input) {
              const projected = project(input, index++);
              const slot: Slot<A, B> = { input, done: false, has: false, promise: isPromiseLike(projected) };
              slots.push(slot);
              const sub = from(projected)
                .pipe(take(1))
                .subscribe({
                  next(v) {
                    if (io.isClosed()) {
                      disposeTree(v);
                      return;
                    }
                    slot.has = true;
                    slot.value = v;
                    disposeReplaced(input, v);
                  },
                  error: (err) => io.error(err),
                  complete() {
                    slot.done = true;
                    if (!slot.has) disposeTree(input);
                    io.wake();
                  },
                });
              if (!slot.done) slot.sub = sub;
            },
          });
          return {
            pull() {
              while (slots.length > 0 && slots[0].done && io.wanted() > 0) {
                const s = slots.shift() as Slot<A, B>;
                if (s.has) io.emit(s.value as B);
              }
              while (slots.length > 0 && slots[0].done && !slots[0].has) slots.shift();
              if (up.isDone()) {
                if (slots.length === 0) io.complete();
                return;
              }
              const need = concurrency - slots.length - up.outstanding();
              if (need > 0) up.request(need);
            },
            teardown() {
              for (const s of slots.splice(0)) {
                if (!s.promise) s.sub?.unsubscribe();
                if (s.has) disposeTree(s.value);
                else disposeTree(s.input);
              }
            },
          };
        }),
      {},
    );
}

function isPromiseLike(v: unknown): boolean {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
