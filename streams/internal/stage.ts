import { Observable, Subject, type Subscription } from 'rxjs';
import { InvalidArgumentError } from '../../src/core/errors.js';
import type { Dataset, Pass } from '../dataset.js';
import { disposeAll } from '../element.js';
import { disposeTree } from '../../src/core/tree.js';

/** What a stage's logic sees of its downstream. */
export interface StageIO<B> {
  readonly pass: Pass;
  /** Outputs the downstream asked for that are not yet produced (credit minus queued outputs). */
  wanted(): number;
  /** Queues an output; it is delivered as soon as there is credit. Disposed if the stage has closed. */
  emit(value: B): void;
  /** Completes the pass once the queued outputs are delivered. */
  complete(): void;
  /** Fails the pass now; queued outputs and held elements are disposed. */
  error(err: unknown): void;
  /** Asks for another round of `pull` (after asynchronous work changed the state). */
  wake(): void;
  isClosed(): boolean;
  /** Subscribes to an upstream pass; it is unsubscribed when this stage closes. */
  connect<A>(source: Dataset<A>, handlers: UpstreamHandlers<A>, pass?: Pass): Upstream;
}

export interface UpstreamHandlers<A> {
  next(value: A): void;
  complete?(): void;
  error?(err: unknown): void;
}

export interface Upstream {
  /** Grants the upstream `n` more elements. */
  request(n: number): void;
  /** Elements requested and not yet received. */
  outstanding(): number;
  isDone(): boolean;
  unsubscribe(): void;
}

export interface StageLogic {
  /** Called on start and after every change while the stage runs: produce, or request from upstream. */
  pull(): void;
  /** Disposes whatever the logic holds; called once when the stage closes for any reason. */
  teardown?(): void;
}

/**
 * The one place that implements the pull protocol's bookkeeping: credit from
 * `demand`, a queue of produced outputs, a re-entrancy-safe drain loop (a
 * synchronous source answering a request inside the loop adds work instead of
 * recursing), and disposal of everything held on error and unsubscription.
 */
export function stage<B>(demand: Observable<number>, pass: Pass, setup: (io: StageIO<B>) => StageLogic): Observable<B> {
  return new Observable<B>((subscriber) => {
    let credit = 0;
    const out: B[] = [];
    let finishing = false;
    let closed = false;
    let draining = false;
    let again = false;
    const upstreams: Subscription[] = [];
    let logic: StageLogic | undefined;
    let demandSub: Subscription | undefined;

    const cleanup = (): void => {
      demandSub?.unsubscribe();
      for (const s of upstreams.splice(0)) s.unsubscribe();
      disposeAll(out.splice(0));
      try {
        logic?.teardown?.();
      } catch {
        /* disposal must not mask the original outcome */
      }
    };
    const fail = (err: unknown): void => {
      if (closed) return;
      closed = true;
      cleanup();
      subscriber.error(err);
    };
    const drain = (): void => {
      if (closed) return;
      if (draining) {
        again = true;
        return;
      }
      draining = true;
      try {
        do {
          again = false;
          while (credit > 0 && out.length > 0 && !closed) {
            credit--;
            subscriber.next(out.shift() as B);
          }
          if (closed) break;
          if (finishing) {
            if (out.length === 0) {
              closed = true;
              cleanup();
              subscriber.complete();
            }
            break;
          }
          logic?.pull();
        } while (again && !closed);
      } catch (err) {
        fail(err);
      } finally {
        draining = false;
      }
    };

    const io: StageIO<B> = {
      pass,
      wanted: () => credit - out.length,
      emit(value) {
        if (closed || finishing) {
          disposeTree(value);
          return;
        }
        out.push(value);
        drain();
      },
      complete() {
        if (closed || finishing) return;
        finishing = true;
        drain();
      },
      error: fail,
      wake: drain,
      isClosed: () => closed,
      connect<A>(source: Dataset<A>, handlers: UpstreamHandlers<A>, upstreamPass: Pass = pass): Upstream {
        const requests = new Subject<number>();
        let outstanding = 0;
        let done = false;
        const guard = (f: () => void): void => {
          try {
            f();
          } catch (err) {
            fail(err);
          }
        };
        const sub = source.open(requests, upstreamPass).subscribe({
          next(value) {
            outstanding--;
            if (closed) disposeTree(value);
            else {
              guard(() => handlers.next(value));
              drain();
            }
          },
          error(err) {
            done = true;
            if (handlers.error) guard(() => handlers.error!(err));
            else fail(err);
          },
          complete() {
            done = true;
            if (handlers.complete) guard(() => handlers.complete!());
            drain();
          },
        });
        upstreams.push(sub);
        if (closed) sub.unsubscribe();
        return {
          request(n) {
            if (n <= 0 || done || closed) return;
            outstanding += n;
            requests.next(n);
          },
          outstanding: () => outstanding,
          isDone: () => done,
          unsubscribe() {
            done = true;
            sub.unsubscribe();
          },
        };
      },
    };

    try {
      logic = setup(io);
    } catch (err) {
      fail(err);
      return;
    }
    if (closed) {
      try {
        logic.teardown?.();
      } catch {
        /* ignore */
      }
      return;
    }
    demandSub = demand.subscribe({
      next(n) {
        if (!Number.isInteger(n) || n < 1) {
          fail(new InvalidArgumentError('demand', 'a positive integer', n));
          return;
        }
        credit += n;
        drain();
      },
      error: fail,
    });
    drain();
    return () => {
      if (!closed) {
        closed = true;
        cleanup();
      }
    };
  });
}

/** `[start, start + n)` as indices. */
export function indexRange(start: number, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i;
  return out;
}
