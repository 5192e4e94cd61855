import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { map as rxMap, of, timer, Observable } from 'rxjs';
import * as tf from '@tensorflow/tfjs-core';
import { TestScheduler } from 'rxjs/testing';
import { InvalidArgumentError } from '../../src/core/errors.js';
import {
  batch,
  cache,
  consume,
  filter,
  fromObservable,
  generate,
  indexedDataset,
  interleave,
  map,
  parallelMap,
  prefetch,
  repeat,
  shard,
  shuffle,
  skip,
  take,
  toObservable,
  unbatch,
  zip,
  type Dataset,
  type Indexed,
} from '../../streams/index.js';

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

// ---- demand translation, operator by operator ----------------------------------
// Each source element takes one frame once asked for, one at a time (generate);
// `asked` records the frames at which the operator asked the source for one.

/** Runs `build` in a TestScheduler; returns the [frame, value] events (tensors as arrays) and the frames the source was asked at. */
function timeline(build: (src: (values: string, latency?: number) => Dataset<string>, hot: <V>(marbles: string, values: Record<string, V>) => Observable<V>, ts: TestScheduler) => Observable<unknown>) {
  const ts = scheduler();
  const asked: number[] = [];
  const events: [number, unknown][] = [];
  ts.run(({ hot }) => {
    const src = (values: string, latency = 1) =>
      generate((i) => {
        asked.push(ts.now());
        return timer(latency).pipe(rxMap(() => values[i]));
      }, { length: values.length });
    build(src, (m, v) => hot(m, v), ts).subscribe({
      next: (v) => events.push([ts.now(), v instanceof tf.Tensor ? v.arraySync() : v]),
      complete: () => events.push([ts.now(), '|']),
      error: (e: Error) => events.push([ts.now(), `# ${e.name}`]),
    });
  });
  return { events, asked };
}

test('batch(2) asks for two rows per batch asked for, and flushes the remainder when the source ends', () => {
  const r = timeline((src, hot) => src('abcde').pipe(batch<string>(2)).open(hot('x---------y----------z', { x: 1, y: 1, z: 5 })));
  assert.deepEqual(r.events, [[2, ['a', 'b']], [12, ['c', 'd']], [22, ['e']], [22, '|']]);
  assert.deepEqual(r.asked, [0, 1, 10, 11, 21]);
});

test('filter asks again for every element it drops, and no further', () => {
  const r = timeline((src, hot) => src('abcdefgh').pipe(filter((_v: string, i: number) => i % 2 === 1)).open(hot('x---------y', { x: 1, y: 2 })));
  assert.deepEqual(r.events, [[2, 'b'], [12, 'd'], [14, 'f']]);
  assert.deepEqual(r.asked, [0, 1, 10, 11, 12, 13]);
});

test('take(2) asks for two elements however much is asked for, then completes', () => {
  const r = timeline((src, hot) => src('abcdefgh').pipe(take<string>(2)).open(hot('x', { x: 5 })));
  assert.deepEqual(r.events, [[1, 'a'], [2, 'b'], [2, '|']]);
  assert.deepEqual(r.asked, [0, 1]);
});

test('skip(2) asks for the skipped elements with the first demand only', () => {
  const r = timeline((src, hot) => src('abcd').pipe(skip<string>(2)).open(hot('x---------y', { x: 1, y: 5 })));
  assert.deepEqual(r.events, [[3, 'c'], [11, 'd'], [11, '|']]);
  assert.deepEqual(r.asked, [0, 1, 2, 10]);
});

test('map keeps the timing of its source', () => {
  const r = timeline((src, hot) => src('ab').pipe(map((v: string) => v.toUpperCase())).open(hot('x----y', { x: 1, y: 1 })));
  assert.deepEqual(r.events, [[1, 'A'], [6, 'B'], [6, '|']]);
  assert.deepEqual(r.asked, [0, 5]);
});

test('repeat(2) re-opens the source when a pass ends, within the same demand', () => {
  const r = timeline((src, hot) => src('ab').pipe(repeat<string>(2)).open(hot('x', { x: 10 })));
  assert.deepEqual(r.events, [[1, 'a'], [2, 'b'], [3, 'a'], [4, 'b'], [4, '|']]);
  assert.deepEqual(r.asked, [0, 1, 2, 3]);
});

test('shard(3, 1) on a stream asks for the rows up to its next one and no further', () => {
  const r = timeline((src, hot) => src('abcdef').pipe(shard<string>(3, 1)).open(hot('x---------y', { x: 1, y: 5 })));
  assert.deepEqual(r.events, [[2, 'b'], [13, 'e'], [14, '|']]);
  assert.deepEqual(r.asked, [0, 1, 10, 11, 12, 13]);
});

test('shuffle on a stream fills its buffer without demand, never beyond bufferSize, and refills one for one', () => {
  const r = timeline((src, hot) => src('abcde').pipe(shuffle<string>({ seed: 1, bufferSize: 2 })).open(hot('----------x---------y', { x: 1, y: 10 })));
  assert.deepEqual(r.asked, [0, 1, 10, 20, 21]);
  assert.deepEqual(r.events.map(([f]) => f), [10, 20, 21, 22, 22, 22]);
  assert.deepEqual(r.events.map(([, v]) => v).slice(0, -1).sort(), ['a', 'b', 'c', 'd', 'e']);
});

test('fromObservable buffers what its push source emits ahead of demand, and fails past bufferSize', () => {
  const ok = timeline((_src, hot, ts) => fromObservable(ts.createColdObservable('-a-b-c|')).open(hot('-----x---y', { x: 1, y: 5 })));
  assert.deepEqual(ok.events, [[5, 'a'], [9, 'b'], [9, 'c'], [9, '|']]);
  const over = timeline((_src, hot, ts) => fromObservable(ts.createColdObservable('-a-b-c|'), { bufferSize: 1 }).open(hot('-', {})));
  assert.deepEqual(over.events, [[3, '# BufferOverflowError']]);
});

test('consume pulls the next element only when the projection of the current one has ended', () => {
  const r = timeline((src) => consume(src('abc'), (v: string) => timer(5).pipe(rxMap(() => `${v}!`))));
  assert.deepEqual(r.events, [[6, 'a!'], [12, 'b!'], [18, 'c!'], [18, '|']]);
  assert.deepEqual(r.asked, [0, 6, 12]);
});

test('toObservable keeps `prefetch` elements asked for ahead of its subscriber', () => {
  const r = timeline((src) => toObservable(src('abcd', 3), { prefetch: 2 }));
  // a serial source: the next element is asked for as soon as the previous one arrives
  assert.deepEqual(r.events, [[3, 'a'], [6, 'b'], [9, 'c'], [12, 'd'], [12, '|']]);
  assert.deepEqual(r.asked, [0, 3, 6, 9]);
});

test('unbatch asks for a batch only when the rows it holds run out', () => {
  const before = tf.memory().numTensors;
  const ts = scheduler();
  const asked: number[] = [];
  const events: [number, number][] = [];
  ts.run(({ hot }) => {
    const batches = generate((i) => {
      asked.push(ts.now());
      return timer(1).pipe(rxMap(() => tf.tensor1d([10 * i, 10 * i + 1, 10 * i + 2])));
    }, { length: 2 });
    batches.pipe(unbatch<tf.Tensor>()).open(hot('x---------y', { x: 2, y: 4 })).subscribe((row) => {
      events.push([ts.now(), row.dataSync()[0]]);
      row.dispose();
    });
  });
  assert.deepEqual(events, [[1, 0], [1, 1], [10, 2], [11, 10], [11, 11], [11, 12]]);
  assert.deepEqual(asked, [0, 10]);
  assert.equal(tf.memory().numTensors, before);
});

test('cache records the first pass and replays it at once without touching the source', () => {
  const r = timeline((src) => {
    const cached = src('ab').pipe(cache<string>());
    return new Observable<string>((subscriber) => {
      toObservable(cached).subscribe({ next: (v) => subscriber.next(v), complete: () => toObservable(cached).subscribe(subscriber) });
    });
  });
  assert.deepEqual(r.events, [[1, 'a'], [2, 'b'], [2, 'a'], [2, 'b'], [2, '|']]);
  assert.deepEqual(r.asked, [0, 1]);
});

test('index operators compose a source\'s openOrder: the pass asks it for the mapped indices, only on demand', () => {
  const asked: number[] = [];
  scheduler().run(({ hot, expectObservable }) => {
    const letters = 'abcdef';
    const base: Indexed<string> = {
      length: 6,
      read: (idx) => Array.from(idx, (i) => letters[i]),
      openOrder: (at, n, demand, pass) =>
        generate((i) => {
          asked.push(at(i));
          return timer(1).pipe(rxMap(() => letters[at(i)]));
        }, { length: n }).open(demand, pass),
    };
    // shard(2, 1) is elements 1, 3, 5; take(2) keeps 1 and 3
    const ds = indexedDataset(base).pipe(shard(2, 1), take(2));
    expectObservable(ds.open(hot<number>('x---x', { x: 1 }))).toBe('-b---(d|)');
  });
  assert.deepEqual(asked, [1, 3]);
  // a shuffle's permutation is applied through openOrder too: every index once
  const seen: string[] = [];
  scheduler().run(({ hot }) => {
    const base: Indexed<string> = {
      length: 6,
      read: () => [],
      openOrder: (at, n, demand, pass) => generate((i) => of(String(at(i))), { length: n }).open(demand, pass),
    };
    indexedDataset(base).pipe(shuffle({ seed: 1 })).open(hot<number>('x', { x: 6 })).subscribe((v) => seen.push(v));
  });
  assert.deepEqual([...seen].sort(), ['0', '1', '2', '3', '4', '5']);
  assert.notDeepEqual(seen, ['0', '1', '2', '3', '4', '5']);
});
