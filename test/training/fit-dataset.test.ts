import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import * as tf from '@tensorflow/tfjs-core';
import { backendReady } from '../helpers/backend.js';
import * as rx from '../../src/index.js';
import { tap } from 'rxjs';
import { batch, fromGenerator, fromHdf5, fromTensors, prefetch } from '../../streams/index.js';

await backendReady;
await h5wasm.ready;

function mlp(seed = 1) {
  const model = new rx.Sequential({
    layers: [rx.Dense({ units: 8, activation: 'relu', input_shape: [3] }), rx.Dense({ units: 2, activation: 'softmax' })],
  });
  return model.build(seed);
}

function data(n: number) {
  const x = tf.randomNormal([n, 3], 0, 1, 'float32', 11);
  const y = tf.tidy(() => tf.oneHot(tf.cast(tf.greater(tf.sum(x, 1), 0), 'int32'), 2));
  return { x, y };
}

test('fit on a Dataset equals fit on the same arrays, batch for batch (no shuffle)', async () => {
  const { x, y } = data(40);
  const a = mlp();
  const b = mlp();
  a.compile({ optimizer: rx.SGD({ learning_rate: 0.1 }), loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  b.compile({ optimizer: rx.SGD({ learning_rate: 0.1 }), loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  const ha = await a.fit(x, y, { batchSize: 8, epochs: 2, shuffle: false, verbose: 0 });
  const hb = await b.fit(fromTensors(x, y).pipe(batch(8), prefetch(2)), { epochs: 2, verbose: 0 });
  assert.deepEqual(hb.history.loss.map((v) => v.toFixed(6)), ha.history.loss.map((v) => v.toFixed(6)));
  const wa = a.getWeights();
  const wb = b.getWeights();
  wa.forEach((w, i) => assert.ok(tf.max(tf.abs(tf.sub(w, wb[i]))).dataSync()[0] < 1e-6));
  const ev = await b.evaluateDataset(fromTensors(x, y).pipe(batch(16)));
  assert.ok(Math.abs(ev.loss - b.evaluate(x, y).loss) < 1e-6);
  const before = tf.memory().numTensors;
  const streamed = (await b.predictDataset(fromTensors(x).pipe(batch(16)))) as tf.Tensor;
  const direct = b.predict(x) as tf.Tensor;
  assert.deepEqual(streamed.shape, [40, 2]);
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(streamed, direct))).dataSync()[0]) < 1e-6);
  tf.dispose([streamed, direct]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, y, ...wa, ...wb]);
  a.dispose();
  b.dispose();
});

test('stepsPerEpoch draws that many batches per epoch from a generator, continuing where the last epoch stopped', async () => {
  const seen: number[] = [];
  let i = 0;
  const source = fromGenerator(function* () {
    for (;;) {
      seen.push(i++);
      yield { x: tf.randomNormal([4, 3], 0, 1, 'float32', i), y: tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 0, 1], 'int32'), 2)) };
    }
  });
  const model = mlp();
  model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy' });
  const steps: number[] = [];
  const h = await model.fit(source, { epochs: 3, stepsPerEpoch: 5, prefetch: 1, verbose: 0, callbacks: [tap((e) => e.type === 'batchEnd' && steps.push(e.epoch))] });
  assert.equal(h.history.loss.length, 3);
  assert.deepEqual(steps, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
  // One pass carried across epochs: 15 batches trained, at most the prefetch (1) more pulled.
  assert.ok(seen.length >= 15 && seen.length <= 16, `pulled ${seen.length} batches for 15 steps with prefetch 1`);
  model.dispose();
});

test('an HDF5 data set streams through fit out of core: rows held at once stay within the prefetch bound', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rxkeras-fit-'));
  const file = join(dir, 'train.h5');
  const rows = 2048;
  {
    const x = new Float32Array(rows * 3).map((_, k) => Math.sin(k));
    const y = new Float32Array(rows * 2).map((_, k) => (k % 2 === (Math.floor(k / 2) % 3 === 0 ? 0 : 1) ? 1 : 0));
    const f = new h5wasm.File(file, 'w');
    f.create_dataset({ name: 'x', data: x, shape: [rows, 3], chunks: [64, 3] });
    f.create_dataset({ name: 'y', data: y, shape: [rows, 2], chunks: [64, 2] });
    f.close();
  }
  let read = 0;
  let trained = 0;
  let maxHeld = 0;
  const batchSize = 32;
  const ds = (await fromHdf5(file, { x: 'x', y: 'y', sliceRows: batchSize, onRead: (r) => { read += r.end - r.start; maxHeld = Math.max(maxHeld, read - trained); } }))
    .pipe(batch(batchSize), prefetch(2));
  const model = mlp();
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' });
  model.trainOnBatch(tf.zeros([1, 3]), tf.zeros([1, 2])); // optimizer slots, which persist
  const base = tf.memory().numTensors;
  await model.fit(ds, { epochs: 2, prefetch: 1, verbose: 0, callbacks: [tap((e) => e.type === 'batchEnd' && (trained += e.size))] });
  assert.equal(trained, 2 * rows);
  // In flight at most: the batch being trained + the loop's prefetch (1) + the pipeline's prefetch (2) + the batch being assembled.
  const bound = (1 + 1 + 2 + 1) * batchSize;
  assert.ok(maxHeld <= bound, `held ${maxHeld} rows at once, bound ${bound}`);
  assert.ok(maxHeld < rows / 4, 'never the whole file');
  assert.equal(tf.memory().numTensors, base, 'every streamed batch freed');
  model.dispose();
});

for (const stepsPerExecution of [1, 2])
test(`a source that errors mid-epoch ends fit with that error after the batches pulled before it have trained, and frees every tensor (stepsPerExecution ${stepsPerExecution})`, async () => {
  const model = mlp();
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', stepsPerExecution });
  await model.fit(fromTensors(tf.zeros([8, 3]), tf.zeros([8, 2])).pipe(batch(4)), { verbose: 0 }); // optimizer slots
  const base = tf.memory().numTensors;
  const failing = fromGenerator(function* () {
    for (let k = 0; k < 3; k++) yield { x: tf.ones([4, 3]), y: tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 0, 1], 'int32'), 2)) };
    throw new Error('disk gone');
  });
  const ended: number[] = [];
  const step = () => model.compiled!.step;
  const first = step();
  const seen = rx.LambdaCallback({ onBatchEnd: (b) => void ended.push(b) });
  await assert.rejects(model.fit(failing, { epochs: 2, verbose: 0, callbacks: [seen] }), /disk gone/);
  assert.deepEqual(ended, stepsPerExecution === 1 ? [0, 1, 2] : [1, 2], 'the batch ends before the failure');
  assert.equal(step() - first, 3, 'the 3 batches pulled trained');
  assert.equal(tf.memory().numTensors, base);
  model.dispose();
});

