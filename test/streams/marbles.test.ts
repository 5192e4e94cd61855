import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { map as rxMap, of, timer, Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { generate, interleave, parallelMap, prefetch, zip, type Dataset } from '../../streams/index.js';

const scheduler = () => new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));

/** Subscribes inside a TestScheduler run and records [frame, value] pairs and the completion frame. */
function record<T>(ts: TestScheduler, obs: Observable<T>): { events: [number, T | '|'][] } {
  const events: [number, T | '|'][] = [];
  obs.subscribe({ next: (v) => events.push([ts.now(), v]), complete: () => events.push([ts.now(), '|']) });
  return { events };
}

/** A source whose element i takes `latency` frames to produce once asked for; records when each was asked. */
function slowSource(values: string[], latency: number, asked: number[], now: () => number): Dataset<string> {
  return generate((i) => {
    asked.push(now());
    return timer(latency).pipe(rxMap(() => values[i]));
  }, { length: values.length });
}

test('prefetch(2) reads ahead of demand and never holds more than 2 unrequested elements', () => {
  scheduler().run(({ hot, expectObservable, flush }) => {
    const asked: number[] = [];
    const ts = scheduler();
    const src = slowSource(['a', 'b', 'c', 'd'], 2, asked, () => ts.now());
    // the consumer asks for one element at frames 10 and 11, then two at 20
    const demand = hot<number>('----------xy--------z', { x: 1, y: 1, z: 2 });
    expectObservable(src.pipe(prefetch(2)).open(demand)).toBe('----------ab--------(cd|)');
    flush();
  });
});

test('without prefetch the same source answers each request after its latency', () => {
  scheduler().run(({ hot, expectObservable }) => {
    const src = generate((i) => timer(2).pipe(rxMap(() => 'abcd'[i])), { length: 4 });
    const demand = hot<number>('----------x---------y', { x: 1, y: 1 });
    expectObservable(src.open(demand)).toBe('------------a---------b');
  });
});

test('parallelMap keeps input order, runs up to `concurrency` projections, emits only on demand', () => {
  const ts = scheduler();
  let rec: { events: [number, string | '|'][] } = { events: [] };
  ts.run(({ cold, hot }) => {
    const durations = [5, 1, 3, 1];
    const src = generate((i) => of(i), { length: 4 });
    const demand = hot<number>('x', { x: 10 });
    const out = src.pipe(parallelMap((i: number) => cold(`${'-'.repeat(durations[i])}(r|)`, { r: `v${i}` }), { concurrency: 2 }));
    rec = record(ts, out.open(demand));
  });
  // 0 and 1 start at frame 0; 1 finishes at 1 but holds its slot until 0 leaves at 5 (order kept);
  // then 2 (3 frames) and 3 (1 frame) start at 5: 3 waits for 2, both leave at 8.
  assert.deepEqual(rec.events, [[5, 'v0'], [5, 'v1'], [8, 'v2'], [8, 'v3'], [8, '|']]);
});

test('parallelMap with no demand runs at most `concurrency` projections and emits nothing', () => {
  let started = 0;
  scheduler().run(({ cold, hot, expectObservable }) => {
    const src = generate((i) => of(i), { length: 10 });
    const out = src.pipe(parallelMap((i: number) => { started++; return cold('-(r|)', { r: i }); }, { concurrency: 3 }));
    expectObservable(out.open(hot<number>('-'))).toBe('');
  });
  assert.equal(started, 3);
});

test('zip asks each side only for what was requested, and pairs in order', () => {
  scheduler().run(({ hot, expectObservable }) => {
    const fast = generate((i) => timer(1).pipe(rxMap(() => 'abc'[i])), { length: 3 });
    const slow = generate((i) => timer(4).pipe(rxMap(() => 'xyz'[i])), { length: 3 });
    const demand = hot<number>('x---------y', { x: 1, y: 2 });
    // one pair asked at 0: a at 1, x at 4; two more at 10: b, c at 11, 12; y, z at 14, 18; both sides then end
    expectObservable(zip(fast, slow).open(demand)).toBe('----p---------q---(r|)', { p: ['a', 'x'], q: ['b', 'y'], r: ['c', 'z'] });
  });
});

test('interleave cycles through inner data sets in a deterministic order, block by block', () => {
  const ts = scheduler();
  let rec: { events: [number, string | '|'][] } = { events: [] };
  ts.run(({ hot }) => {
    const outer = generate((i) => of(i), { length: 3 });
    const inner = (k: number): Dataset<string> => generate((j) => timer(1).pipe(rxMap(() => `${k}${j}`)), { length: 2 });
    const demand = hot<number>('x', { x: 100 });
    // blockLength 2 and cycleLength 2: 00 01 from inner 0, 10 11 from inner 1, then 20 21 (inner 2 replaces inner 0)
    rec = record(ts, outer.pipe(interleave(inner, { cycleLength: 2, blockLength: 2 })).open(demand));
  });
  // each inner element takes one frame and is pulled only when its turn comes
  assert.deepEqual(rec.events.map(([, v]) => v), ['00', '01', '10', '11', '20', '21', '|']);
  assert.deepEqual(rec.events.map(([f]) => f), [1, 2, 3, 4, 5, 6, 6]);
});

test('a demand that is not a positive integer fails the pass', () => {
  scheduler().run(({ hot, expectObservable }) => {
    const src = generate((i) => of(i), { length: 3 });
    expectObservable(src.open(hot<number>('-x', { x: 0 }))).toBe('-#', undefined, new InvalidArgumentError('demand', 'a positive integer', 0));
  });
});
