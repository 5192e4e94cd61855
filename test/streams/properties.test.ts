import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import { lastValueFrom, take as rxTake, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  batch, consume, fromArrays, generate, prefetch, shard, shuffle, splitAt, splitValidation, unbatch, type Example,
} from '../../streams/index.js';
import { rowsOf } from './helpers.js';

const rows = (n: number) => Array.from({ length: n }, (_, i) => i);

test('batch then unbatch is the identity', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 }), fc.boolean(), async (n, size, stream) => {
      const base = fromArrays(rows(n).map((i) => [i, -i]), rows(n));
      const src = stream ? base.pipe(shuffle({ seed: 1, buffered: true, bufferSize: 1 })) : base; // bufferSize 1 keeps order on the stream path
      assert.deepEqual(await rowsOf(src.pipe(batch(size), unbatch())), rows(n).map((i) => [i, -i]));
    }),
    { numRuns: 40 },
  );
});

test('shuffle is a permutation, reproducible from its seed, and differs between epochs', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 8, max: 60 }), fc.integer(), fc.boolean(), async (n, seed, buffered) => {
      const ds = fromArrays(rows(n)).pipe(shuffle({ seed, buffered, bufferSize: 5 }));
      const e0 = (await rowsOf(ds, { epoch: 0 })) as number[];
      const e1 = (await rowsOf(ds, { epoch: 1 })) as number[];
      assert.deepEqual([...e0].sort((a, b) => a - b), rows(n));
      assert.deepEqual([...e1].sort((a, b) => a - b), rows(n));
      assert.notDeepEqual(e0, e1);
      assert.deepEqual(await rowsOf(ds, { epoch: 0 }), e0);
    }),
    { numRuns: 30 },
  );
});

test("splitValidation takes exactly Keras's last rows, and the validation part is never shuffled", async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 2, max: 50 }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), async (n, fraction) => {
      const at = Math.floor(n * (1 - fraction)); // Keras: int(num_samples * (1. - validation_split))
      fc.pre(at > 0 && at < n);
      assert.equal(splitAt(n, fraction), at);
      const { train, validation } = fromArrays(rows(n)).pipe(splitValidation(fraction));
      assert.deepEqual(await rowsOf(validation), rows(n).slice(at));
      assert.deepEqual(await rowsOf(validation, { epoch: 3 }), rows(n).slice(at));
      const shuffled = (await rowsOf(train.pipe(shuffle({ seed: 7 })), { epoch: 1 })) as number[];
      assert.deepEqual([...shuffled].sort((a, b) => a - b), rows(at));
    }),
    { numRuns: 60 },
  );
  assert.throws(() => fromArrays(rows(10)).pipe(shuffle({ seed: 1 }), splitValidation(0.2)), /unshuffled/);
  assert.throws(() => fromArrays(rows(3)).pipe(splitValidation(0.9)), /EmptyDatasetError|not enough/);
  assert.equal(splitAt(10, 0.3), 7);
  assert.equal(splitAt(10, 0.7), 3);
});

test('shards partition the data', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }), fc.boolean(), async (n, count, stream) => {
      const base = fromArrays(rows(n));
      const src = stream ? base.pipe(shuffle({ seed: 2, buffered: true, bufferSize: 1 })) : base;
      const parts: number[][] = [];
      for (let k = 0; k < count; k++) parts.push((await rowsOf(src.pipe(shard(count, k)))) as number[]);
      assert.deepEqual(parts.flat().sort((a, b) => a - b), rows(n));
      parts.forEach((p, k) => p.forEach((v) => assert.equal(v % count, k)));
    }),
    { numRuns: 40 },
  );
});

test('with a fast source and a slow consumer, rows in flight never exceed (consumer prefetch + prefetch depth) x batch', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 10 }),
      (size, depth, consumerPrefetch, work) => {
        const base = tf.memory().numTensors;
        let created = 0;
        let consumed = 0;
        let maxInFlight = 0;
        const ts = new TestScheduler((a, b) => assert.deepEqual(a, b));
        ts.run(() => {
          const src = generate<Example>(() => {
            created++;
            maxInFlight = Math.max(maxInFlight, created - consumed);
            return [{ x: tf.scalar(created) }];
          }, { length: 60 });
          consume(src.pipe(batch(size), prefetch(depth)), (b) => {
            const n = (b.x as tf.Tensor).shape[0];
            return timer(work).pipe(() => {
              consumed += n;
              return timer(0);
            });
          }, { prefetch: consumerPrefetch }).subscribe();
        });
        assert.equal(consumed, 60);
        assert.ok(maxInFlight <= (consumerPrefetch + depth) * size, `${maxInFlight} > (${consumerPrefetch} + ${depth}) x ${size}`);
        assert.equal(tf.memory().numTensors, base);
      },
    ),
    { numRuns: 40 },
  );
});

test('an unbounded source is read only as far as it is consumed (plus the prefetch depth)', async () => {
  const base = tf.memory().numTensors;
  let produced = 0;
  const src = generate((i) => {
    produced++;
    return [{ x: tf.scalar(i) }];
  }).pipe(prefetch(3));
  const last = await lastValueFrom(consume(src, (_e: Example, k: number) => [k], { prefetch: 2 }).pipe(rxTake(5)));
  assert.equal(last, 4);
  assert.ok(produced <= 5 + 2 + 3, `produced ${produced}`);
  assert.equal(tf.memory().numTensors, base);
});
