import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readlinkSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import * as tf from '@tensorflow/tfjs-core';
import { take as rxTake } from 'rxjs';
import * as rx from '../../src/index.js';
import { Hdf5ReadError } from '../../src/core/errors.js';
import { foldIn, makeKey, permutation } from '../../src/core/rng.js';
import { compiledBackend, enableCompiledSteps } from '../../src/ops/compiled/index.js';
import { batch, consume, disposeValue, fromHdf5, fromHdf5Batches, prefetch, shard, shuffle, take, toObservable, type Example, type ReaderThread } from '../../streams/index.js';
import { collect } from './helpers.js';

await h5wasm.ready;
const dir = mkdtempSync(join(tmpdir(), 'rxkeras-hdf5-batches-'));
const ROWS = 1000;
const file = join(dir, 'data.h5');
{
  const f = new h5wasm.File(file, 'w');
  f.create_dataset({ name: 'x', data: new Float32Array(ROWS * 3).map((_, k) => Math.floor(k / 3) + (k % 3) / 10), shape: [ROWS, 3], chunks: [16, 3] });
  f.create_dataset({ name: 'x2', data: new Float32Array(ROWS * 4).map((_, k) => -k), shape: [ROWS, 2, 2], chunks: [16, 2, 2] });
  f.create_dataset({ name: 'y', data: Int32Array.from({ length: ROWS }, (_, i) => i % 7), shape: [ROWS] });
  f.create_dataset({ name: 'xn', data: new Float32Array(ROWS * 3).map((_, k) => Math.sin(k)), shape: [ROWS, 3], chunks: [64, 3] });
  f.create_dataset({ name: 'yn', data: new Float32Array(ROWS * 2).map((_, k) => (k % 2 === Math.floor(k / 2) % 2 ? 1 : 0)), shape: [ROWS, 2] });
  f.close();
}

/** Reader threads started by passes; each test checks that they all end. */
function threads(): { onReader: (t: ReaderThread) => void; started: ReaderThread[] } {
  const started: ReaderThread[] = [];
  return { onReader: (t) => started.push(t), started };
}

/** Waits (at most 10 s) for every reader thread to end; resolves with their exit codes. */
function ended(started: readonly ReaderThread[]): Promise<number[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('a reader thread did not end within 10 s')), 10_000)));
  return Promise.race([Promise.all(started.map((t) => t.exited)), timeout]).finally(() => clearTimeout(timer));
}

/** File descriptors of this process open on `path`. */
function openFds(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // closed while listing
    }
  }).length;
}

const firstX = (e: Example): number => (e.x as tf.Tensor).dataSync()[0];

test('fromHdf5Batches reads rows [start, end) one slice per batch in a reader thread, equal to fromHdf5 + batch; the thread ends and the file is closed', async () => {
  const t = threads();
  const reads: { start: number; end: number }[] = [];
  const ds = await fromHdf5Batches(file, { x: 'x', y: 'y', start: 100, end: 900, batchSize: 64, onRead: (r) => reads.push(r), onReader: t.onReader });
  assert.equal(ds.length, 13);
  const base = tf.memory().numTensors;
  const got = await collect(ds, { prefetch: 3 });
  const want = await collect((await fromHdf5(file, { x: 'x', y: 'y', start: 100, end: 900 })).pipe(batch(64)));
  assert.equal(got.length, 13);
  got.forEach((g, i) => {
    assert.deepEqual((g.x as tf.Tensor).shape, (want[i].x as tf.Tensor).shape);
    assert.deepEqual((g.x as tf.Tensor).dataSync(), (want[i].x as tf.Tensor).dataSync());
    assert.equal((g.y as tf.Tensor).dtype, 'int32');
    assert.deepEqual((g.y as tf.Tensor).dataSync(), (want[i].y as tf.Tensor).dataSync());
  });
  assert.deepEqual((got[12].x as tf.Tensor).shape, [32, 3]);
  assert.deepEqual(reads, Array.from({ length: 13 }, (_, j) => ({ start: 100 + 64 * j, end: Math.min(900, 164 + 64 * j) })));
  [...got, ...want].forEach(disposeValue);
  assert.equal(tf.memory().numTensors, base);
  assert.equal(t.started.length, 1, 'one reader thread per pass');
  assert.deepEqual(await ended(t.started), [0]);
  assert.equal(openFds(file), 0);
});

test('fromHdf5Batches: several x data sets make x an array; dropRemainder drops the short batch; bad batch sizes are refused', async () => {
  const ds = await fromHdf5Batches(file, { x: ['x', 'x2'], y: 'y', batchSize: 300, dropRemainder: true });
  assert.equal(ds.length, 3);
  const got = await collect(ds);
  assert.equal(got.length, 3);
  const [x1, x2] = got[2].x as tf.Tensor[];
  assert.deepEqual(x2.shape, [300, 2, 2]);
  assert.equal(x1.dataSync()[0], 600);
  assert.equal(x2.dataSync()[3], -(600 * 4 + 3));
  got.forEach(disposeValue);
  await assert.rejects(fromHdf5Batches(file, { x: 'x', batchSize: 0 }), rx.InvalidArgumentError);
  await assert.rejects(fromHdf5Batches(file, { x: 'x', batchSize: 2000, dropRemainder: true }), /at most the 1000 rows/);
  await assert.rejects(fromHdf5Batches(file, { x: 'x', batchSize: 10, end: 1010 }), rx.Hdf5RangeError);
});

test('fromHdf5Batches reads float64, 8- to 64-bit integers and big-endian data sets (written by h5py) as float32 / int32', async () => {
  const typed = join(dir, 'typed.h5');
  const types = { f8: '<f8', i1: '|i1', u2: '<u2', i8: '<i8', bef4: '>f4', bei4: '>i4' };
  const script = `import h5py, numpy as np
with h5py.File(${JSON.stringify(typed)}, 'w') as f:
    for name, t in ${JSON.stringify(types)}.items():
        f.create_dataset(name, data=(np.arange(20).reshape(10, 2) * (1.5 if 'f' in t else 3)).astype(t))`;
  const py = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  const names = Object.keys(types);
  const got = await collect(await fromHdf5Batches(typed, { x: names, batchSize: 5 }));
  assert.equal(got.length, 2);
  names.forEach((name, k) => {
    const float = types[name as keyof typeof types].includes('f');
    const values = got.flatMap((e) => [...(e.x as tf.Tensor[])[k].dataSync()]);
    assert.equal((got[0].x as tf.Tensor[])[k].dtype, float ? 'float32' : 'int32', name);
    assert.deepEqual(values, Array.from({ length: 20 }, (_, i) => i * (float ? 1.5 : 3)), name);
  });
  got.forEach(disposeValue);
});

test('fromHdf5Batches backpressure: rows asked of the reader and tensors alive stay within (consumer prefetch + prefetch depth) batches', async () => {
  const t = threads();
  let asked = 0;
  let consumed = 0;
  let maxHeld = 0;
  let maxTensors = 0;
  const size = 50, depth = 2, consumerPrefetch = 2;
  const ds = await fromHdf5Batches(file, { x: 'x', y: 'y', batchSize: size, onRead: (r) => { asked += r.end - r.start; maxHeld = Math.max(maxHeld, asked - consumed); }, onReader: t.onReader });
  const base = tf.memory().numTensors;
  await new Promise<void>((resolve, reject) =>
    consume(ds.pipe(prefetch(depth)), (b: Example) => {
      maxTensors = Math.max(maxTensors, tf.memory().numTensors - base);
      // a slow step: the reader is faster, so only the bound holds it back
      return new Promise<void>((r) => setTimeout(() => { consumed += (b.x as tf.Tensor).shape[0]; r(); }, 5));
    }, { prefetch: consumerPrefetch }).subscribe({ error: reject, complete: resolve }),
  );
  assert.equal(consumed, ROWS);
  assert.ok(maxHeld <= (consumerPrefetch + depth) * size, `rows asked and not consumed: ${maxHeld}`);
  assert.ok(maxHeld >= (consumerPrefetch + depth - 1) * size, `the reader ran ahead (${maxHeld} rows)`);
  assert.ok(maxTensors <= (consumerPrefetch + depth) * 2, `tensors alive: ${maxTensors} (x and y per batch, no per-row tensors)`);
  assert.equal(tf.memory().numTensors, base);
  assert.deepEqual(await ended(t.started), [0]);
});

test('index operators keep the reads in the reader thread: shuffle permutes batches per epoch, shard and take read only their batches', async () => {
  const t = threads();
  const read: number[] = [];
  const size = 100;
  const ds = await fromHdf5Batches(file, { x: 'x', batchSize: size, onRead: (r) => read.push(r.start / size), onReader: t.onReader });
  const key = makeKey(5);
  const base = tf.memory().numTensors;
  for (const epoch of [0, 1]) {
    read.length = 0;
    const got = await collect(ds.pipe(shuffle({ key }), shard(2, 1), take(3)), { epoch });
    const perm = permutation(foldIn(key, epoch), 10);
    const want = [perm[1], perm[3], perm[5]];
    assert.deepEqual(got.map((e) => firstX(e) / size), want, `epoch ${epoch}`);
    assert.deepEqual(read, want, 'only the batches of this shard, in pass order');
    got.forEach(disposeValue);
  }
  assert.deepEqual(await collect(ds.pipe(take(0))), []);
  assert.equal(tf.memory().numTensors, base);
  assert.equal(t.started.length, 2, 'one thread per pass that reads; none for a pass that reads nothing');
  assert.deepEqual(await ended(t.started), [0, 0]);
  assert.equal(openFds(file), 0);
});

test('fromHdf5Batches: unsubscribing mid-epoch with reads in flight frees every tensor, ends the thread and closes the file', async () => {
  const t = threads();
  const ds = await fromHdf5Batches(file, { x: 'x', y: 'y', batchSize: 32, onReader: t.onReader });
  const base = tf.memory().numTensors;
  const seen: number[] = [];
  await new Promise<void>((resolve, reject) =>
    toObservable(ds.pipe(prefetch(4)), { prefetch: 3 }).pipe(rxTake(2)).subscribe({
      next: (e) => { seen.push(firstX(e)); disposeValue(e); },
      error: reject,
      complete: resolve,
    }),
  );
  assert.deepEqual(seen, [0, 32]);
  assert.equal(tf.memory().numTensors, base);
  assert.deepEqual(await ended(t.started), [0]);
  assert.equal(openFds(file), 0);
});

test('a corrupt or shortened file errors the pass with Hdf5ReadError naming the file, data set and rows; nothing is left behind', async () => {
  for (const damage of ['truncated', 'shortened'] as const) {
    const t = threads();
    const copy = join(dir, `${damage}.h5`);
    copyFileSync(file, copy);
    const ds = await fromHdf5Batches(copy, { x: 'x', y: 'y', batchSize: 64, onReader: t.onReader });
    if (damage === 'truncated') truncateSync(copy, Math.floor(statSync(copy).size / 2));
    else {
      const f = new h5wasm.File(copy, 'w');
      f.create_dataset({ name: 'x', data: new Float32Array(200 * 3), shape: [200, 3] });
      f.create_dataset({ name: 'y', data: new Int32Array(200), shape: [200] });
      f.close();
    }
    const base = tf.memory().numTensors;
    let delivered = 0;
    const err = await new Promise<unknown>((resolve) =>
      toObservable(ds, { prefetch: 2 }).subscribe({ next: (e) => { delivered++; disposeValue(e); }, error: resolve, complete: () => resolve(undefined) }),
    );
    assert.ok(err instanceof Hdf5ReadError, `${damage}: ${String(err)}`);
    assert.equal(err.file, copy);
    assert.equal(err.dataset, 'x');
    assert.equal(delivered, damage === 'truncated' ? 0 : 3);
    if (damage === 'truncated') {
      assert.deepEqual(err.rows, [0, 64]);
      assert.match(err.message, /rows \[0, 64\): cannot open the file: truncated file: eof = \d+/);
    } else {
      assert.deepEqual(err.rows, [192, 256]);
      assert.match(err.message, /rows \[192, 256\): the data set now has 200 rows/);
    }
    assert.equal(tf.memory().numTensors, base, 'nothing held after the error');
    await ended(t.started);
    assert.equal(openFds(copy), 0);
  }
});

/** The first n rows of the file's xn and yn data sets, read with h5wasm directly. */
function readRows(n: number): [Float32Array, Float32Array] {
  const f = new h5wasm.File(file, 'r');
  const read = (name: string) => (f.get(name) as InstanceType<typeof h5wasm.Dataset>).slice([[0, n]]) as Float32Array;
  const rows: [Float32Array, Float32Array] = [read('xn'), read('yn')];
  f.close();
  return rows;
}

/** The small model both training paths start from (same seeds). */
function model(): rx.Sequential {
  const m = new rx.Sequential({ layers: [rx.Dense({ units: 8, activation: 'relu', input_shape: [3] }), rx.Dense({ units: 2, activation: 'softmax' })] }).build(1);
  m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' }, 3);
  return m;
}

/** Asserts that two models' weights are equal bit for bit. */
function compare(a: rx.Sequential, b: rx.Sequential): void {
  const [wa, wb] = [a.getWeights(), b.getWeights()];
  wa.forEach((w, i) => assert.deepEqual(w.dataSync(), wb[i].dataSync(), `weight ${i}`));
  tf.dispose([...wa, ...wb]);
}

test('a model trained through fit from the reader thread has the weights of fit(x, y) on the same batches in the same order', async () => {
  const n = 960, size = 64;
  const [xs, ys] = readRows(n);
  const ds = await fromHdf5Batches(file, { x: 'xn', y: 'yn', end: n, batchSize: size });

  // in file order, two epochs
  const disk = model();
  const memory = model();
  await disk.fit(ds, { epochs: 2, verbose: 0 });
  const [x, y] = [tf.tensor2d(xs, [n, 3]), tf.tensor2d(ys, [n, 2])];
  await memory.fit(x, y, { batchSize: size, epochs: 2, shuffle: false, verbose: 0 });
  compare(disk, memory);

  // shuffled batches: the in-memory rows laid out in the same batch order
  const seed = makeKey(9);
  const perm = permutation(foldIn(seed, 0), n / size);
  const order = Int32Array.from({ length: n }, (_, i) => perm[Math.floor(i / size)] * size + (i % size));
  const [px, py] = tf.tidy(() => [tf.gather(x, order), tf.gather(y, order)]);
  const shuffledDisk = model();
  const shuffledMemory = model();
  await shuffledDisk.fit(ds.pipe(shuffle({ key: seed })), { epochs: 1, verbose: 0 });
  await shuffledMemory.fit(px, py, { batchSize: size, epochs: 1, shuffle: false, verbose: 0 });
  compare(shuffledDisk, shuffledMemory);
  tf.dispose([x, y, px, py]);
  [disk, memory, shuffledDisk, shuffledMemory].forEach((m) => m.dispose());
});

test('with compiled steps the reader\'s slots are lent to the step (no copy), unchanged until released, reused after, and training equals compiled fit(x, y) bit for bit', async () => {
  const n = 960, size = 64;
  const [xs, ys] = readRows(n);
  const backend = compiledBackend();
  const lend = backend.lend;
  const buffers = new Set<ArrayBufferLike>();
  let lent = 0;
  let shared = 0;
  let changed = 0;
  backend.lend = (data, shape, dtype, release) => {
    buffers.add(data.buffer);
    lent++;
    if (data.buffer instanceof SharedArrayBuffer) shared++;
    // the reader must not refill a slot the step may still read
    const copy = data.slice();
    return lend.call(backend, data, shape, dtype, () => {
      if (copy.some((v, i) => !Object.is(v, data[i]))) changed++;
      release();
    });
  };
  enableCompiledSteps(true);
  const [x, y] = [tf.tensor2d(xs, [n, 3]), tf.tensor2d(ys, [n, 2])];
  try {
    const ds = await fromHdf5Batches(file, { x: 'xn', y: 'yn', end: n, batchSize: size });
    const disk = model();
    const memory = model();
    await disk.fit(ds, { epochs: 2, verbose: 0, prefetch: 2 });
    await memory.fit(x, y, { batchSize: size, epochs: 2, shuffle: false, verbose: 0 });
    compare(disk, memory);
    assert.equal(lent, 2 * 2 * (n / size), 'x and y of every batch lent');
    assert.equal(shared, lent, 'lent as views of the reader\'s slots');
    assert.equal(changed, 0, 'no slot refilled while lent');
    // a pass's ring holds what is in flight (fit's prefetch, the step, the reads asked for), not one slot per batch
    assert.ok(buffers.size <= 2 * 6, `${buffers.size} distinct slots for ${lent / 2} batches`);
    const base = tf.memory().numTensors;
    await disk.fit(ds, { epochs: 1, verbose: 0 });
    assert.equal(tf.memory().numTensors, base, 'no batch tensor held after fit');
    disk.dispose();
    memory.dispose();
  } finally {
    enableCompiledSteps(false);
    backend.lend = lend;
    tf.dispose([x, y]);
  }
});
