import { Observable, Subscription, asyncScheduler, type OperatorFunction, type SchedulerLike } from 'rxjs';
import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import { BatchFailedError, InvalidRequestError, QueueFullError, RequestCancelledError, RequestTooLargeError, type ServingError } from './errors.js';
import { concatRows, sliceRows, type Rows } from './rows.js';

/** What micro-batching needs of a model: Keras's `predict` on one tensor per input (a `Model` is one). */
export interface Predictor {
  predict(x: ops.Tensor | ops.Tensor[], options?: { batchSize?: number }): ops.Tensor | ops.Tensor[];
}

/** One caller's request: its rows for each model input (the same number of rows in each), and a way to give up. */
export interface InferenceRequest {
  readonly inputs: readonly Rows[];
  /** Aborting drops the request if it has not been computed yet (it is answered with RequestCancelledError). */
  readonly signal?: AbortSignal;
}

/** The answer to one request: its own rows of every model output, or why there are none. */
export type InferenceResult<R> = { request: R; outputs: Rows[]; error?: undefined } | { request: R; error: ServingError; outputs?: undefined };

/** What one batch was, for metrics. */
export interface BatchInfo {
  rows: number;
  requests: number;
  ms: number;
  failed: boolean;
}

export interface MicroBatchOptions {
  /** Rows in one `predict` call at most; a request with more is refused. */
  maxBatchSize: number;
  /** How long the oldest waiting request may wait for its batch to fill. */
  maxDelayMs: number;
  /** Requests that may wait for a batch; one more is refused at once with QueueFullError. */
  maxQueue: number;
  /** Runs the delay timers and the step between batches (tests pass a TestScheduler); by default timers on asyncScheduler and one batch per turn of the event loop. */
  scheduler?: SchedulerLike;
  onBatch?(info: BatchInfo): void;
  onQueueDepth?(depth: number): void;
}

interface Entry<R> {
  request: R;
  rows: number;
  /** When it joined the queue (scheduler time). */
  at: number;
  onAbort?: () => void;
}

/**
 * Dynamic batching as an operator: single requests in, one answer per
 * request out (the request object itself says whose answer it is).
 *
 * Waiting requests are run together in one `model.predict` call as soon as
 * they fill `maxBatchSize` rows or the oldest has waited `maxDelayMs`;
 * each request gets its own rows of the outputs back. One batch runs per
 * turn of the event loop, so requests that arrive while a batch computes
 * queue up for the next one, up to `maxQueue` (then they are refused, never
 * buffered). A cancelled request leaves the queue before it is computed; a
 * batch the model fails on fails its own requests only; every tensor is
 * freed when its batch ends. When the source completes, the queue is run
 * down, then the output completes.
 */
export function microBatch<R extends InferenceRequest>(model: Predictor, options: MicroBatchOptions): OperatorFunction<R, InferenceResult<R>> {
  const { maxBatchSize, maxDelayMs, maxQueue } = checkBatchingOptions(options);
  const clock = options.scheduler ?? asyncScheduler;
  const nextTurn = (work: () => void): Subscription => {
    if (options.scheduler) return options.scheduler.schedule(work, 0);
    const handle = setImmediate(work);
    return new Subscription(() => clearImmediate(handle));
  };

  return (source) =>
    new Observable<InferenceResult<R>>((subscriber) => {
      const queue: Entry<R>[] = [];
      let queuedRows = 0;
      let deadline: Subscription | undefined;
      let pending: Subscription | undefined;
      let end: { error: unknown } | 'complete' | undefined;

      const queueChanged = () => options.onQueueDepth?.(queue.length);
      const ready = () => queue.length > 0 && (end !== undefined || queuedRows >= maxBatchSize || clock.now() - queue[0].at >= maxDelayMs);
      const scheduleBatch = () => {
        deadline?.unsubscribe();
        deadline = undefined;
        pending ??= nextTurn(runBatch);
      };
      // After any change at the head of the queue: run now, or wait for the oldest request's deadline.
      const settle = () => {
        if (subscriber.closed || pending) return;
        if (ready()) return scheduleBatch();
        deadline?.unsubscribe();
        deadline = queue.length > 0 ? clock.schedule(settle, Math.max(0, queue[0].at + maxDelayMs - clock.now())) : undefined;
        if (queue.length === 0 && end !== undefined) {
          if (end === 'complete') subscriber.complete();
          else subscriber.error(end.error);
        }
      };

      const leave = (entry: Entry<R>) => {
        if (entry.onAbort) entry.request.signal?.removeEventListener('abort', entry.onAbort);
      };

      const runBatch = () => {
        pending = undefined;
        const batch = takeBatch(queue, maxBatchSize);
        for (const entry of batch) {
          queuedRows -= entry.rows;
          leave(entry);
        }
        queueChanged();
        if (batch.length > 0) for (const result of compute(model, batch, options.onBatch)) if (!subscriber.closed) subscriber.next(result);
        settle();
      };

      const subscription = source.subscribe({
        next: (request) => {
          const rows = requestRows(request);
          if (typeof rows !== 'number') return subscriber.next({ request, error: rows });
          if (rows > maxBatchSize) return subscriber.next({ request, error: new RequestTooLargeError(rows, maxBatchSize) });
          if (request.signal?.aborted) return subscriber.next({ request, error: new RequestCancelledError() });
          if (queue.length >= maxQueue) return subscriber.next({ request, error: new QueueFullError(maxQueue) });
          const entry: Entry<R> = { request, rows, at: clock.now() };
          if (request.signal) {
            entry.onAbort = () => {
              const i = queue.indexOf(entry);
              if (i < 0) return;
              queue.splice(i, 1);
              queuedRows -= rows;
              leave(entry);
              queueChanged();
              subscriber.next({ request, error: new RequestCancelledError() });
              if (i === 0) settle();
            };
            request.signal.addEventListener('abort', entry.onAbort, { once: true });
          }
          queue.push(entry);
          queuedRows += rows;
          queueChanged();
          if (queue.length === 1 || queuedRows >= maxBatchSize) settle();
        },
        error: (error) => {
          end = { error };
          settle();
        },
        complete: () => {
          end = 'complete';
          settle();
        },
      });

      return () => {
        subscription.unsubscribe();
        deadline?.unsubscribe();
        pending?.unsubscribe();
        queue.forEach(leave);
        queue.length = 0;
      };
    });
}

/** Throws InvalidArgumentError unless the batching options are in their domains. */
export function checkBatchingOptions<O extends Pick<MicroBatchOptions, 'maxBatchSize' | 'maxDelayMs' | 'maxQueue'>>(o: O): O {
  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`microBatch ${name}`, 'an integer >= 1', v);
  };
  positiveInt('maxBatchSize', o.maxBatchSize);
  positiveInt('maxQueue', o.maxQueue);
  if (!(o.maxDelayMs >= 0) || !Number.isFinite(o.maxDelayMs)) throw new InvalidArgumentError('microBatch maxDelayMs', 'a finite number >= 0', o.maxDelayMs);
  return o;
}

/** The request's number of rows (every input must have it, and at least one), or why it has none. */
function requestRows(request: InferenceRequest): number | InvalidRequestError {
  const shapes = () => JSON.stringify(request.inputs.map((r) => r.shape));
  const n = request.inputs[0]?.shape[0];
  if (n === undefined || n < 1) return new InvalidRequestError('inputs', 'at least one input with at least one row', shapes());
  if (request.inputs.some((r) => r.shape[0] !== n)) return new InvalidRequestError('inputs', `${n} rows in every input`, shapes());
  return n;
}

/**
 * The next batch: requests from the head of the queue, in order, while their
 * rows fit and their row shapes match the first one's (a malformed request
 * then fails in a batch of its own kind, not in its neighbours').
 */
function takeBatch<R extends InferenceRequest>(queue: Entry<R>[], maxBatchSize: number): Entry<R>[] {
  if (queue.length === 0) return [];
  const head = queue[0].request.inputs;
  let rows = 0;
  let k = 0;
  while (k < queue.length && rows + queue[k].rows <= maxBatchSize && (k === 0 || sameRowShapes(head, queue[k].request.inputs))) rows += queue[k++].rows;
  return queue.splice(0, k);
}

function sameRowShapes(a: readonly Rows[], b: readonly Rows[]): boolean {
  return (
    a.length === b.length &&
    a.every((r, i) => {
      const s = b[i].shape;
      return r.data.constructor === b[i].data.constructor && r.shape.length === s.length && r.shape.every((d, j) => j === 0 || d === s[j]);
    })
  );
}

/** One `predict` call for the whole batch, then each request's own rows of each output. */
function compute<R extends InferenceRequest>(model: Predictor, batch: Entry<R>[], onBatch: MicroBatchOptions['onBatch']): InferenceResult<R>[] {
  const start = performance.now();
  const rows = batch.reduce((n, e) => n + e.rows, 0);
  let outputs: Rows[];
  try {
    outputs = predictRows(model, batch[0].request.inputs.map((_, i) => concatRows(batch.map((e) => e.request.inputs[i]))), rows);
  } catch (cause) {
    onBatch?.({ rows, requests: batch.length, ms: performance.now() - start, failed: true });
    const error = new BatchFailedError(batch.length, cause);
    return batch.map((e) => ({ request: e.request, error }));
  }
  onBatch?.({ rows, requests: batch.length, ms: performance.now() - start, failed: false });
  let offset = 0;
  return batch.map((e) => {
    const result = { request: e.request, outputs: outputs.map((o) => sliceRows(o, offset, e.rows)) };
    offset += e.rows;
    return result;
  });
}

function predictRows(model: Predictor, inputs: Rows[], rows: number): Rows[] {
  const x = inputs.map((r) => ops.tensor(r.data, r.shape, r.data instanceof Int32Array ? 'int32' : 'float32'));
  let y: ops.Tensor[] = [];
  try {
    const out = model.predict(x.length === 1 ? x[0] : x, { batchSize: rows });
    y = Array.isArray(out) ? out : [out];
    return y.map((t) => {
      if (t.shape[0] !== rows) throw new InvalidArgumentError('model.predict', `outputs with ${rows} rows`, t.shape);
      const data = t.dataSync();
      return { data: data instanceof Float32Array || data instanceof Int32Array ? data : Int32Array.from(data as Uint8Array), shape: t.shape };
    });
  } finally {
    ops.dispose([...x, ...y]);
  }
}
