import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Subject, firstValueFrom, map, toArray, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { BatchFailedError, microBatch, type InferenceRequest, type InferenceResult, type MicroBatchOptions, type Predictor } from '../../src/serving/index.js';
import { assertClose, predictAlone, random, randomRows, smallModel, toRows, within } from './helpers.js';

const model = smallModel();

interface Req extends InferenceRequest {
  id: string;
  rows: number[][];
}

const rand = random(7);
function req(id: string, n = 1, signal?: AbortSignal, poison = false): Req {
  const rows = randomRows(rand, n, 4);
  if (poison) rows[0][0] = 666;
  return { id, rows, inputs: [toRows(rows)], signal };
}

/** The real model, recording [frame, rows] of each predict call, failing on a batch that holds the value 666. */
function spy(ts: TestScheduler): { predictor: Predictor; calls: number[][] } {
  const calls: number[][] = [];
  const predictor: Predictor = {
    predict(x, options) {
      const t = x as tf.Tensor;
      calls.push([ts.now(), t.shape[0]]);
      if ((t.dataSync() as Float32Array).includes(666)) throw new Error('poisoned row');
      return model.predict(t, options) as tf.Tensor;
    },
  };
  return { predictor, calls };
}

/** Each answer as its request's id, or id!ErrorName; checks every computed answer against predict on the request's own rows. */
const ids = (results: Observable<InferenceResult<Req>>) =>
  results.pipe(
    map((r) => {
      if (r.error) return `${r.request.id}!${r.error.name}`;
      assertClose(Array.from(r.outputs[0].data), predictAlone(model, r.request.rows).flat());
      assert.deepEqual(r.outputs[0].shape, [r.request.rows.length, 3]);
      return r.request.id;
    }),
  );

function marbles(options: Omit<MicroBatchOptions, 'scheduler'>, body: (h: { ts: TestScheduler; run: (source: Observable<Req>) => Observable<string>; calls: number[][] } & Parameters<Parameters<TestScheduler['run']>[0]>[0]) => void): void {
  const before = tf.memory().numTensors;
  const ts = new TestScheduler((a, b) => assert.deepEqual(a, b));
  const { predictor, calls } = spy(ts);
  ts.run((helpers) => body({ ...helpers, ts, calls, run: (source) => ids(source.pipe(microBatch(predictor, { ...options, scheduler: ts }))) }));
  assert.equal(tf.memory().numTensors, before, 'every tensor of every batch is freed');
}

test('microBatch flushes when maxBatchSize rows wait, or maxDelayMs after the oldest request', () => {
  marbles({ maxBatchSize: 3, maxDelayMs: 5, maxQueue: 10 }, ({ cold, expectObservable, run, ts, calls }) => {
    const source = cold<Req>('abc---d-------|', { a: req('a'), b: req('b'), c: req('c'), d: req('d') });
    expectObservable(run(source)).toBe('--(abc)----d--|', { a: 'a', b: 'b', c: 'c', d: 'd' });
    ts.flush();
    assert.deepEqual(calls, [[2, 3], [11, 1]]); // one predict call per batch
  });
});

test('microBatch: the delay counts from the oldest waiting request; rows, not requests, fill a batch', () => {
  marbles({ maxBatchSize: 4, maxDelayMs: 5, maxQueue: 10 }, ({ cold, expectObservable, run, ts, calls }) => {
    // a (1 row) at 0 and b (2 rows) at 3: 3 rows < 4, so both wait until 0 + 5
    const source = cold<Req>('a--b------|', { a: req('a'), b: req('b', 2) });
    expectObservable(run(source)).toBe('-----(ab)-|', { a: 'a', b: 'b' });
    ts.flush();
    assert.deepEqual(calls, [[5, 3]]);
  });
});

test('microBatch: a request that does not fit runs the batch before it at once; one larger than maxBatchSize is refused', () => {
  marbles({ maxBatchSize: 4, maxDelayMs: 5, maxQueue: 10 }, ({ cold, expectObservable, run, ts, calls }) => {
    // a (3 rows) waits; b (2 rows) would make 5 > 4, so a runs at 1; b waits until 1 + 5; c (5 rows) is refused at 2
    const source = cold<Req>('abc-----|', { a: req('a', 3), b: req('b', 2), c: req('c', 5) });
    expectObservable(run(source)).toBe('-ac---b-|', { a: 'a', b: 'b', c: 'c!RequestTooLargeError' });
    ts.flush();
    assert.deepEqual(calls, [[1, 3], [6, 2]]);
  });
});

test('microBatch: a full queue refuses the next request at once (typed error), never buffers it', () => {
  marbles({ maxBatchSize: 10, maxDelayMs: 5, maxQueue: 2 }, ({ cold, expectObservable, run }) => {
    const source = cold<Req>('abc------|', { a: req('a'), b: req('b'), c: req('c') });
    expectObservable(run(source)).toBe('--c--(ab)|', { a: 'a', b: 'b', c: 'c!QueueFullError' });
  });
});

test('microBatch: a cancelled request leaves the queue before it is computed', () => {
  marbles({ maxBatchSize: 10, maxDelayMs: 5, maxQueue: 10 }, ({ cold, expectObservable, run, ts, calls }) => {
    const b = new AbortController();
    const early = new AbortController();
    early.abort();
    ts.schedule(() => b.abort(), 4);
    const source = cold<Req>('abcd-----|', { a: req('a'), b: req('b', 2, b.signal), c: req('c'), d: req('d', 1, early.signal) });
    expectObservable(run(source)).toBe('---db(ac)|', { a: 'a', b: 'b!RequestCancelledError', c: 'c', d: 'd!RequestCancelledError' });
    ts.flush();
    assert.deepEqual(calls, [[5, 2]], "b's two rows and d's row were never computed");
  });
});

test('microBatch: a batch the model fails on fails its own requests only', () => {
  marbles({ maxBatchSize: 2, maxDelayMs: 5, maxQueue: 10 }, ({ cold, expectObservable, run, ts, calls }) => {
    const source = cold<Req>('ab-----cd-----e--------|', { a: req('a'), b: req('b', 1, undefined, true), c: req('c'), d: req('d'), e: req('e') });
    expectObservable(run(source)).toBe('-(ab)---(cd)-------e---|', { a: 'a!BatchFailedError', b: 'b!BatchFailedError', c: 'c', d: 'd', e: 'e' });
    ts.flush();
    assert.deepEqual(calls, [[1, 2], [8, 2], [19, 1]]);
  });
});

test('microBatch: when the source ends, the queue runs down at once, then the output ends (with the error, if any)', () => {
  marbles({ maxBatchSize: 10, maxDelayMs: 50, maxQueue: 10 }, ({ cold, expectObservable, run }) => {
    expectObservable(run(cold<Req>('ab|', { a: req('a'), b: req('b') }))).toBe('--(ab|)', { a: 'a', b: 'b' });
    expectObservable(run(cold<Req>('a-#', { a: req('a') }, new Error('source failed')))).toBe('--(a#)', { a: 'a' }, new Error('source failed'));
  });
});

test('microBatch: an unsubscribed batcher runs nothing more and leaves no timer behind', () => {
  marbles({ maxBatchSize: 10, maxDelayMs: 5, maxQueue: 10 }, ({ cold, expectObservable, run, ts, calls }) => {
    expectObservable(run(cold<Req>('ab-------|', { a: req('a'), b: req('b') })), '^--!').toBe('---');
    ts.flush();
    assert.deepEqual(calls, []);
  });
});

test('microBatch checks its options', () => {
  assert.throws(() => microBatch(model, { maxBatchSize: 0, maxDelayMs: 1, maxQueue: 1 }), InvalidArgumentError);
  assert.throws(() => microBatch(model, { maxBatchSize: 1, maxDelayMs: -1, maxQueue: 1 }), InvalidArgumentError);
  assert.throws(() => microBatch(model, { maxBatchSize: 1, maxDelayMs: 1, maxQueue: 1.5 }), InvalidArgumentError);
});

test('microBatch in real time: 1,000 requests of 1-5 rows, each answered with predict on its own rows, in few batches, no tensor left', async () => {
  const before = tf.memory().numTensors;
  const rows = random(11);
  const requests = Array.from({ length: 1000 }, (_, i) => req(String(i), 1 + Math.floor(((rows() + 1) / 2) * 5)));
  const batches: number[] = [];
  const depths: number[] = [];
  const source = new Subject<Req>();
  const answers = firstValueFrom(
    source.pipe(
      microBatch(model, { maxBatchSize: 32, maxDelayMs: 2, maxQueue: 1000, onBatch: (b) => batches.push(b.rows), onQueueDepth: (d) => depths.push(d) }),
      toArray(),
    ),
  );
  // Arrive in bursts of 50 on separate turns of the event loop.
  for (let i = 0; i < requests.length; i += 50) {
    requests.slice(i, i + 50).forEach((r) => source.next(r));
    await new Promise((resolve) => setImmediate(resolve));
  }
  source.complete();
  const results = await within(answers, 20_000, '1,000 answers');
  assert.equal(results.length, 1000);
  assert.deepEqual(new Set(results.map((r) => r.request.id)).size, 1000, 'each request answered exactly once');
  for (const r of results) {
    assert.equal(r.error, undefined);
    assertClose(Array.from(r.outputs![0].data), predictAlone(model, r.request.rows).flat(), 1e-6);
  }
  assert.equal(batches.reduce((a, b) => a + b, 0), requests.reduce((n, r) => n + r.rows.length, 0));
  assert.ok(batches.every((n) => n <= 32));
  assert.ok(batches.length < requests.length / 4, `${batches.length} batches for 1,000 requests`);
  assert.ok(Math.max(...depths) <= 1000 && depths.at(-1) === 0);
  assert.equal(tf.memory().numTensors, before);
});

test('microBatch: a BatchFailedError names the model error and the batch', async () => {
  const failing: Predictor = {
    predict: () => {
      throw new Error('out of memory');
    },
  };
  const source = new Subject<Req>();
  const answers = firstValueFrom(source.pipe(microBatch(failing, { maxBatchSize: 4, maxDelayMs: 0, maxQueue: 4 }), toArray()));
  source.next(req('x'));
  source.complete();
  const [r] = await within(answers, 5000, 'the answer');
  assert.ok(r.error instanceof BatchFailedError);
  assert.match(r.error.message, /batch of 1 request\(s\): out of memory/);
  assert.equal(r.error.httpStatus, 500);
});
