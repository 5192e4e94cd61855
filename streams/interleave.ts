import { InvalidArgumentError } from '../src/core/errors.js';
import { Dataset, FIRST_PASS, type DatasetOperator } from './dataset.js';
import { disposeAll } from './element.js';
import { disposeTree } from '../src/core/tree.js';
import { stage, type Upstream } from './internal/stage.js';

export interface InterleaveOptions {
  /** Inner data sets open at once (default 2). */
  cycleLength?: number;
  /** Consecutive elements taken from one inner data set before moving to the next (default 1). */
  blockLength?: number;
}

interface Inner<A, B> {
  outer: A;
  up: Upstream;
  queue: B[];
}

/**
 * tf.data's interleave: maps each outer element to an inner data set (a file,
 * a shard) and cycles through `cycleLength` of them, `blockLength` elements
 * at a time, in a deterministic order. Inner passes are opened lazily and
 * pulled one element at a time (put a `prefetch` inside `project` for
 * parallel reads). The outer element is lent to its inner data set and
 * disposed when that inner pass ends.
 */
export function interleave<A, B>(project: (value: A) => Dataset<B>): DatasetOperator<A, B>;
export function interleave<A, B>(project: (value: A) => Dataset<B>, options: InterleaveOptions): DatasetOperator<A, B>;
export function interleave<A, B>(project: (value: A) => Dataset<B>, options: InterleaveOptions = {}): DatasetOperator<A, B> {
  const cycleLength = options.cycleLength ?? 2;
  const blockLength = options.blockLength ?? 1;
  if (!Number.isInteger(cycleLength) || cycleLength < 1) throw new InvalidArgumentError('interleave cycleLength', 'a positive integer', cycleLength);
  if (!Number.isInteger(blockLength) || blockLength < 1) throw new InvalidArgumentError('interleave blockLength', 'a positive integer', blockLength);
  return (source) =>
    new Dataset<B>(
      (demand, pass = FIRST_PASS) =>
        stage<B>(demand, pass, (io) => {
          const slots: (Inner<A, B> | null)[] = Array.from({ length: cycleLength }, () => null);
          let cursor = 0;
          let inBlock = 0;
          const openInner = (outer: A): Inner<A, B> => {
            const inner = { outer, queue: [] as B[] } as Inner<A, B>;
            try {
              inner.up = io.connect(project(outer), { next: (v) => inner.queue.push(v) });
            } catch (err) {
              disposeTree(outer);
              throw err;
            }
            return inner;
          };
          const outerUp = io.connect(source, {
            next(v) {
              slots[cursor] = openInner(v);
            },
          });
          const advance = (): void => {
            inBlock = 0;
            cursor = (cursor + 1) % slots.length;
          };
          return {
            pull() {
              for (;;) {
                if (slots.length === 0) {
                  io.complete();
                  return;
                }
                const s = slots[cursor];
                if (s === null) {
                  if (outerUp.isDone()) {
                    slots.splice(cursor, 1);
                    inBlock = 0;
                    if (cursor >= slots.length) cursor = 0;
                    continue;
                  }
                  if (io.wanted() > 0 && outerUp.outstanding() === 0) outerUp.request(1);
                  if (slots[cursor] === null) return;
                  continue;
                }
                if (s.queue.length > 0) {
                  if (io.wanted() <= 0) return;
                  io.emit(s.queue.shift() as B);
                  if (++inBlock >= blockLength) advance();
                  continue;
                }
                if (s.up.isDone()) {
                  s.up.unsubscribe();
                  disposeTree(s.outer);
                  slots[cursor] = null;
                  inBlock = 0;
                  continue;
                }
                if (io.wanted() > 0 && s.up.outstanding() === 0) s.up.request(1);
                if (s.queue.length === 0 && !s.up.isDone()) return;
              }
            },
            teardown() {
              for (const s of slots.splice(0)) {
                if (!s) continue;
                s.up.unsubscribe();
                disposeAll(s.queue.splice(0));
                disposeTree(s.outer);
              }
            },
          };
        }),
      {},
    );
}
