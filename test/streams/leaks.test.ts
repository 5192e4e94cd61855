import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { take as rxTake } from 'rxjs';
import {
  batch, cache, consume, disposeValue, filter, fromArrays, fromGenerator, interleave, map, parallelMap, prefetch, repeat,
  shard, shuffle, skip, splitValidation, take, toAsyncIterable, toObservable, unbatch, zip, type Dataset, type Example,
} from '../../streams/index.js';

const N = 12;
const indexedSource = (): Dataset<Example> => fromArrays(Array.from({ length: N }, (_, i) => [i, i]), Array.from({ length: N }, (_, i) => i));
const streamSource = (failAt = Infinity): Dataset<Example> =>
  fromGenerator(function* () {
    for (let i = 0; i < N; i++) {
      if (i === failAt) throw new Error(`boom at ${i}`);
      yield { x: tf.tensor1d([i, i]), y: tf.scalar(i) };
    }
  });

const ops: [string, (d: Dataset<Example>) => Dataset<Example>][] = [
  ['identity', (d) => d],
  ['map', (d) => d.pipe(map((e: Example) => ({ x: tf.add(e.x as tf.Tensor, 1), y: e.y })))],
  ['parallelMap', (d) => d.pipe(parallelMap((e: Example) => Promise.resolve({ x: tf.mul(e.x as tf.Tensor, 2), y: e.y }), { concurrency: 3 }))],
  ['batch', (d) => d.pipe(batch(5))],
  ['batch+unbatch', (d) => d.pipe(batch(5), unbatch())],
  ['shuffle', (d) => d.pipe(shuffle({ seed: 3 }))],
  ['shuffle buffered', (d) => d.pipe(shuffle({ seed: 3, bufferSize: 4, buffered: true }))],
  ['take', (d) => d.pipe(take(7))],
  ['skip', (d) => d.pipe(skip(3))],
  ['filter', (d) => d.pipe(filter((_e: Example, i: number) => i % 3 !== 0))],
  ['zip', (d) => zip(d, d.pipe(skip(1))).pipe(map(([a, b]: [Example, Example]) => ({ x: a.x, y: b.y })))],
  ['repeat', (d) => d.pipe(repeat(2))],
  ['prefetch', (d) => d.pipe(prefetch(4))],
  ['shard', (d) => d.pipe(shard(3, 1))],
  ['interleave', (d) => d.pipe(take(4), interleave((e: Example) => fromArrays([[1, 2], [3, 4], [5, 6]]).pipe(map((r: Example) => ({ x: tf.add(r.x as tf.Tensor, e.x as tf.Tensor) })))))],
];

/** Subscribes, disposing every element, and resolves with the count and the error (if any). */
function drain(ds: Dataset<Example>, limit = Infinity): Promise<{ count: number; error?: unknown }> {
  return new Promise((resolve) => {
    let count = 0;
    toObservable(ds, { prefetch: 2 })
      .pipe(rxTake(limit))
      .subscribe({
        next(e) {
          count++;
          disposeValue(e);
        },
        error: (error) => resolve({ count, error }),
        complete: () => resolve({ count }),
      });
  });
}

for (const [name, op] of ops) {
  for (const [kind, src] of [['indexed', indexedSource], ['stream', () => streamSource()]] as const) {
    test(`${name} (${kind}): no leak after complete, error and unsubscribe`, async () => {
      const base = tf.memory().numTensors;
      const done = await drain(op(src()));
      assert.equal(done.error, undefined);
      assert.ok(done.count > 0);
      assert.equal(tf.memory().numTensors, base, 'after complete');

      const failed = await drain(op(streamSource(3)));
      assert.match(String((failed.error as Error | undefined)?.message), /boom at 3/);
      assert.equal(tf.memory().numTensors, base, 'after error');

      const cut = await drain(op(src()), 2);
      assert.equal(cut.count, 2);
      assert.equal(tf.memory().numTensors, base, 'after unsubscribe');
    });
  }
}

test('splitValidation parts and cache do not leak; cache release frees its copies', async () => {
  const base = tf.memory().numTensors;
  const { train, validation } = indexedSource().pipe(splitValidation(0.25));
  assert.equal((await drain(train)).count, 9);
  assert.equal((await drain(validation, 1)).count, 1);
  const cached = streamSource().pipe(cache());
  assert.equal((await drain(cached, 3)).count, 3); // an early end discards the partial recording
  assert.equal(tf.memory().numTensors, base);
  assert.equal((await drain(cached)).count, N);
  assert.ok(tf.memory().numTensors > base, 'the cache holds its copies');
  assert.equal((await drain(cached)).count, N);
  cached.release();
  assert.equal(tf.memory().numTensors, base);
});

test('consume lends each element and disposes it; toAsyncIterable disposes on break', async () => {
  const base = tf.memory().numTensors;
  let seen = 0;
  await new Promise<void>((resolve, reject) =>
    consume(indexedSource().pipe(batch(4)), (e) => {
      seen += (e.x as tf.Tensor).shape[0];
      return Promise.resolve(seen);
    }).subscribe({ error: reject, complete: resolve }),
  );
  assert.equal(seen, N);
  assert.equal(tf.memory().numTensors, base);
  let k = 0;
  for await (const e of toAsyncIterable(indexedSource().pipe(prefetch(3)), { prefetch: 2 })) {
    disposeValue(e);
    if (++k === 3) break;
  }
  assert.equal(k, 3);
  assert.equal(tf.memory().numTensors, base);
});
