import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import * as tf from '@tensorflow/tfjs-core';
import { timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { Hdf5FormatError, Hdf5RangeError, CsvFormatError, DataCardinalityError, EmptyDatasetError } from '../../src/core/errors.js';
import { batch, cache, consume, fromArrays, fromCsv, fromHdf5, fromGenerator, prefetch, shuffle, type Example } from '../../streams/index.js';
import { collect, rowsOf } from './helpers.js';

await h5wasm.ready;
const dir = mkdtempSync(join(tmpdir(), 'rxkeras-streams-'));
const ROWS = 1000;
const file = join(dir, 'data.h5');
{
  const f = new h5wasm.File(file, 'w');
  const x = new Float32Array(ROWS * 3).map((_, k) => Math.floor(k / 3) + (k % 3) / 10);
  f.create_dataset({ name: 'x', data: x, shape: [ROWS, 3], chunks: [16, 3] });
  f.create_dataset({ name: 'y', data: Int32Array.from({ length: ROWS }, (_, i) => i % 7), shape: [ROWS] });
  f.close();
}

test('fromHdf5 reads rows [start, end) a slice at a time (at most sliceRows per read)', async () => {
  const reads: { start: number; end: number }[] = [];
  const ds = await fromHdf5(file, { x: 'x', y: 'y', start: 100, end: 900, sliceRows: 64, onRead: (r) => reads.push(r) });
  assert.equal(ds.length, 800);
  const base = tf.memory().numTensors;
  let consumed = 0;
  let read = 0;
  let firstX: number[] | undefined;
  const size = 32, depth = 2, consumerPrefetch = 1;
  await new Promise<void>((resolve, reject) =>
    consume(ds.pipe(batch(size), prefetch(depth)), (b: Example) => {
      firstX ??= ((b.x as tf.Tensor).arraySync() as number[][])[0];
      assert.deepEqual(((b.y as tf.Tensor).arraySync() as number[])[0], (100 + consumed) % 7);
      return new Promise<void>((r) => setImmediate(() => { consumed += (b.x as tf.Tensor).shape[0]; r(); }));
    }, { prefetch: consumerPrefetch }).subscribe({ error: reject, complete: resolve }),
  );
  for (const r of reads) {
    read += r.end - r.start;
    assert.ok(r.end - r.start <= 64, 'one slice is at most sliceRows');
  }
  assert.equal(read, 800);
  assert.equal(consumed, 800);
  assert.equal(reads[0].start, 100);
  assert.equal(reads.at(-1)!.end, 900);
  assert.deepEqual(firstX!.map((v) => Math.round(v * 10) / 10), [100, 100.1, 100.2]);
  assert.equal(tf.memory().numTensors, base);
});

test('fromHdf5 rows held at once stay within (consumer prefetch + prefetch depth) x batch', () => {
  // virtual time: the consumer takes 10 frames per batch, the file answers at once
  return (async () => {
    let read = 0;
    let consumed = 0;
    let maxHeld = 0;
    const ds = await fromHdf5(file, { x: 'x', y: 'y', sliceRows: 128, onRead: (r) => { read += r.end - r.start; maxHeld = Math.max(maxHeld, read - consumed); } });
    const size = 16, depth = 3, consumerPrefetch = 2;
    const base = tf.memory().numTensors;
    new TestScheduler(() => undefined).run(() => {
      consume(ds.pipe(batch(size), prefetch(depth)), (b: Example) => {
        const n = (b.x as tf.Tensor).shape[0];
        return timer(10).pipe(() => { consumed += n; return timer(0); });
      }, { prefetch: consumerPrefetch }).subscribe();
    });
    assert.equal(consumed, ROWS);
    assert.ok(maxHeld <= (consumerPrefetch + depth) * size, `held ${maxHeld}`);
    assert.ok(maxHeld > 0);
    assert.equal(tf.memory().numTensors, base);
  })();
});

test('fromHdf5 shuffles rows by index and errors name the file, data set and range', async () => {
  const ds = await fromHdf5(file, { x: 'x', y: 'y', end: 50 });
  const ys = (await collect(ds.pipe(shuffle({ seed: 4 })))).map((e) => { const v = (e.x as tf.Tensor).arraySync() as number[]; tf.dispose([e.x as tf.Tensor, e.y as tf.Tensor]); return Math.round(v[0]); });
  assert.deepEqual([...ys].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  await assert.rejects(fromHdf5(file, { x: 'nope' }), (e: unknown) => e instanceof Hdf5RangeError && e.dataset === 'nope' && e.file === file && /no such data set/.test(e.message));
  await assert.rejects(fromHdf5(file, { x: 'x', start: 990, end: 1010 }), (e: unknown) => e instanceof Hdf5RangeError && e.range[1] === 1010 && /\[990, 1010\)/.test(e.message) && /1000 rows/.test(e.message));
  await assert.rejects(fromHdf5(join(dir, 'missing.h5'), { x: 'x' }), Hdf5FormatError);
});

test('cache to an HDF5 file writes the first pass and replays it from disk', async () => {
  const cacheFile = join(dir, 'cache.h5');
  let calls = 0;
  const src = fromGenerator(function* () { calls++; for (let i = 0; i < 300; i++) yield { x: [i, 2 * i], y: i }; });
  const cached = src.pipe(cache({ file: cacheFile, blockRows: 64 }));
  const base = tf.memory().numTensors;
  const first = await rowsOf(cached);
  assert.ok(existsSync(cacheFile));
  const second = await rowsOf(cached);
  assert.deepEqual(second, first);
  assert.equal(first.length, 300);
  assert.deepEqual(first[299], [299, 598]);
  assert.equal(calls, 1);
  assert.equal(tf.memory().numTensors, base);
});

test('fromCsv streams records into x and y; bad cells and bad inputs are typed errors', async () => {
  const csv = join(dir, 'data.csv');
  writeFileSync(csv, 'a,b,label\n1,2,0\n3,4,1\n5,6,0\n');
  const ds = fromCsv(csv, { x: ['a', 'b'], y: ['label'] });
  const es = await collect(ds);
  assert.deepEqual(es.map((e) => (e.x as tf.Tensor).arraySync()), [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(es.map((e) => (e.y as tf.Tensor).arraySync()), [0, 1, 0]);
  es.forEach((e) => tf.dispose([e.x as tf.Tensor, e.y as tf.Tensor]));
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'a,b\n1,2\n3,oops\n');
  await assert.rejects(rowsOf(fromCsv(bad, { x: ['a', 'b'] })), (e: unknown) => e instanceof CsvFormatError && e.line === 3 && e.column === 'b');
  assert.throws(() => fromArrays([[1], [2]], [1]), DataCardinalityError);
  assert.throws(() => fromArrays([]), EmptyDatasetError);
  await assert.rejects(rowsOf(fromGenerator(function* () {})), EmptyDatasetError);
});
