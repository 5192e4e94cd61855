import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { backendReady } from '../helpers/backend.js';
import * as rx from '../../src/index.js';

await backendReady;

const close = (a: tf.Tensor, b: tf.Tensor, tol = 1e-6) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] <= tol;

test('default names follow tf.keras: dense, dense_1, ...', () => {
  rx.resetNames();
  const names = [rx.Dense({ units: 1 }), rx.Dense({ units: 1 }), rx.Conv2D({ filters: 1, kernel_size: 1 }), rx.LeakyReLU({})].map((l) => l.name);
  assert.deepEqual(names, ['dense', 'dense_1', 'conv2d', 'leaky_re_lu']);
  const input = rx.Input({ shape: [2] });
  assert.equal(input.node.layer.name, 'input_1');
});

test('Sequential: layers, getLayer, pop then re-add gives the same outputs', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 1000 }), (h, o, seed) => {
      const hidden = rx.Dense({ units: h, activation: 'tanh', input_shape: [3] });
      const out = rx.Dense({ units: o });
      const model = new rx.Sequential({ layers: [hidden, out] }).build(seed);
      assert.equal(model.getLayer(out.name), out);
      const x = tf.randomNormal([4, 3], 0, 1, 'float32', seed);
      const before = model.predict(x) as tf.Tensor;
      const kept = model.getWeights();
      const popped = model.pop();
      assert.equal(popped, out);
      assert.equal(model.layers.length, 1);
      const mid = model.predict(x) as tf.Tensor;
      assert.deepEqual(mid.shape, [4, h]);
      model.add(out);
      model.setWeights(kept);
      const after = model.predict(x) as tf.Tensor;
      assert.ok(close(before, after));
      tf.dispose([x, before, mid, after, ...kept]);
      model.dispose();
    }),
    { numRuns: 15 },
  );
});

test('functional model: two inputs, two outputs, a shared layer, a nested model', () => {
  const a = rx.Input({ shape: [4], name: 'a' });
  const b = rx.Input({ shape: [4], name: 'b' });
  const shared = rx.Dense({ units: 3, name: 'shared' });
  const inner = (() => {
    const i = rx.Input({ shape: [3] });
    return new rx.Model({ inputs: i, outputs: rx.Dense({ units: 2, name: 'inner_dense' }).call(i), name: 'inner' });
  })();
  const ha = shared.call(a);
  const hb = shared.call(b);
  const out1 = inner.call(ha);
  const out2 = rx.Dense({ units: 1, name: 'head' }).call(hb);
  const model = new rx.Model({ inputs: [a, b], outputs: [out1, out2] }).build(3);
  assert.deepEqual(model.outputNames, ['inner', 'head']);
  assert.deepEqual(
    model.layers.map((l) => l.name),
    ['a', 'b', 'shared', 'inner', 'head'],
  );
  const xa = tf.randomNormal([5, 4], 0, 1, 'float32', 1);
  const xb = tf.randomNormal([5, 4], 0, 1, 'float32', 2);
  const [y1, y2] = model.predict([xa, xb]) as tf.Tensor[];
  assert.deepEqual(y1.shape, [5, 2]);
  assert.deepEqual(y2.shape, [5, 1]);
  // Recompute by hand with the same weights: the shared layer is one set of weights.
  const p = model.variables!.params as Record<string, Record<string, tf.Tensor> & Record<string, Record<string, tf.Tensor>>>;
  const expected1 = tf.tidy(() => tf.add(tf.matMul(tf.add(tf.matMul(xa, p.shared.kernel), p.shared.bias), p.inner.inner_dense.kernel as unknown as tf.Tensor), p.inner.inner_dense.bias as unknown as tf.Tensor));
  const expected2 = tf.tidy(() => tf.add(tf.matMul(tf.add(tf.matMul(xb, p.shared.kernel), p.shared.bias), p.head.kernel), p.head.bias));
  assert.ok(close(y1, expected1, 1e-5));
  assert.ok(close(y2, expected2, 1e-5));
  assert.equal(model.countParams().total, 4 * 3 + 3 + 3 * 2 + 2 + 3 + 1);
  tf.dispose([xa, xb, y1, y2, expected1, expected2]);
  model.dispose();
});

test('trainable = false freezes a layer: no updates, counted as non-trainable', async () => {
  const frozen = rx.Dense({ units: 4, input_shape: [3], activation: 'relu' });
  const model = new rx.Sequential({ layers: [frozen, rx.Dense({ units: 1 })] }).build(1);
  frozen.trainable = false;
  assert.deepEqual(model.countParams(), { total: 21, trainable: 5, nonTrainable: 16 });
  const before = (model.variables!.params[frozen.name] as Record<string, tf.Tensor>).kernel.arraySync();
  model.compile({ optimizer: 'adam', loss: 'mse' });
  const x = tf.randomNormal([16, 3]);
  const y = tf.randomNormal([16, 1]);
  await model.fit(x, y, { epochs: 2, verbose: 0 });
  assert.deepEqual((model.variables!.params[frozen.name] as Record<string, tf.Tensor>).kernel.arraySync(), before);
  tf.dispose([x, y]);
  model.dispose();
});

test('a frozen BatchNormalization runs in inference mode (moving statistics) and keeps them', async () => {
  const bn = rx.BatchNormalization({ input_shape: [2] });
  const model = new rx.Sequential({ layers: [bn, rx.Dense({ units: 1 })] }).build(1);
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = tf.add(tf.mul(tf.randomNormal([32, 2], 0, 1, 'float32', 4), 3), 5);
  const y = tf.randomNormal([32, 1]);
  await model.fit(x, y, { epochs: 1, verbose: 0 });
  const moving = () => (model.variables!.state[bn.name] as Record<string, tf.Tensor>).moving_mean.arraySync() as number[];
  const trained = moving();
  assert.notDeepEqual(trained, [0, 0], 'trainable BN updates its moving mean');
  bn.trainable = false;
  await model.fit(x, y, { epochs: 1, verbose: 0 });
  assert.deepEqual(moving(), trained, 'frozen BN keeps its moving mean');
  tf.dispose([x, y]);
  model.dispose();
});

test('summary prints the Keras table with parameter counts', () => {
  rx.resetNames();
  const model = new rx.Sequential({ layers: [rx.Dense({ units: 512, input_shape: [784] }), rx.Dense({ units: 10 })] });
  const lines: string[] = [];
  model.summary((l) => lines.push(l));
  assert.equal(lines[0], 'Model: "sequential"');
  assert.equal(lines[2], 'Layer (type)                 Output Shape              Param #');
  assert.equal(lines[4], 'dense (Dense)                (None, 512)               401920');
  assert.equal(lines[6], 'dense_1 (Dense)              (None, 10)                5130');
  assert.ok(lines.includes('Total params: 407,050'));
  assert.ok(lines.includes('Trainable params: 407,050'));
  assert.ok(lines.includes('Non-trainable params: 0'));
  model.dispose();
});
