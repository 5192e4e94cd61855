/**
 * Noise and regularisation layers, with fixed keys: identity at inference
 * (bit for bit, and equal to tfjs-layers' gaussianNoise / gaussianDropout /
 * alphaDropout / spatialDropout1d at inference), same key same output,
 * different keys different outputs, a training call without a key refused,
 * and statistics over 20k-200k draws: GaussianNoise (noise mean within 0.02,
 * std within 2%), GaussianDropout (multiplier mean 1 within 0.02, variance
 * rate/(1-rate) within 4%), AlphaDropout (Keras's formula exactly on every
 * element; kept fraction within 0.01 of 1-rate; SELU mean/variance kept
 * within 0.03), SpatialDropout1D/2D/3D (whole channels dropped, per sample;
 * kept fraction within 0.03; kept values scaled by 1/(1-rate));
 * ActivityRegularization's loss is Keras's (l1 sum|y| + l2 sum y^2) / batch.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { runLayerTest, type LayerTestCase } from '../../src/testing/index.js';
import * as L from '../../src/layers/index.js';
import type { Layer } from '../../src/layers/layer.js';

const cases: [string, () => LayerTestCase][] = [
  ['GaussianNoise', () => ({ layer: L.GaussianNoise({ stddev: 0.3 }), inputShape: [null, 4, 5], expectedParams: 0, training: true })],
  ['GaussianDropout', () => ({ layer: L.GaussianDropout({ rate: 0.3, seed: 2 }), inputShape: [null, 6], expectedParams: 0, training: true })],
  ['AlphaDropout', () => ({ layer: L.AlphaDropout({ rate: 0.2 }), inputShape: [null, 6], expectedParams: 0, training: true })],
  ['AlphaDropout noise_shape', () => ({ layer: L.AlphaDropout({ rate: 0.2, noise_shape: [null, 1, 5] }), inputShape: [null, 4, 5], expectedParams: 0, training: true })],
  ['SpatialDropout1D', () => ({ layer: L.SpatialDropout1D({ rate: 0.5 }), inputShape: [null, 4, 5], expectedParams: 0, training: true })],
  ['SpatialDropout2D', () => ({ layer: L.SpatialDropout2D({ rate: 0.5 }), inputShape: [null, 3, 4, 5], expectedParams: 0, training: true })],
  ['SpatialDropout2D cf', () => ({ layer: L.SpatialDropout2D({ rate: 0.5, data_format: 'channels_first' }), inputShape: [null, 3, 4, 5], expectedParams: 0, training: true })],
  ['SpatialDropout3D', () => ({ layer: L.SpatialDropout3D({ rate: 0.5 }), inputShape: [null, 2, 3, 4, 5], expectedParams: 0, training: true })],
  ['ActivityRegularization', () => ({ layer: L.ActivityRegularization({ l1: 0.1, l2: 0.2 }), inputShape: [null, 6], expectedParams: 0, training: true })],
];
for (const [name, make] of cases) test(`run_layer_test: ${name}`, () => runLayerTest(make()));

test('default names and configs follow Keras', () => {
  const named: [Layer, string][] = [
    [L.GaussianNoise({ stddev: 1 }), 'gaussian_noise'],
    [L.GaussianDropout({ rate: 0.1 }), 'gaussian_dropout'],
    [L.AlphaDropout({ rate: 0.1 }), 'alpha_dropout'],
    [L.SpatialDropout1D({ rate: 0.1 }), 'spatial_dropout1d'],
    [L.SpatialDropout2D({ rate: 0.1 }), 'spatial_dropout2d'],
    [L.SpatialDropout3D({ rate: 0.1 }), 'spatial_dropout3d'],
    [L.ActivityRegularization(), 'activity_regularization'],
  ];
  for (const [l, prefix] of named) assert.match(l.name, new RegExp(`^${prefix}(_\\d+)?$`));
  assert.deepEqual(pick(L.GaussianNoise({ stddev: 0.5 }).getConfig(), ['stddev', 'seed']), { stddev: 0.5, seed: null });
  assert.deepEqual(pick(L.AlphaDropout({ rate: 0.5 }).getConfig(), ['rate', 'seed']), { rate: 0.5, seed: null });
  assert.deepEqual(pick(L.SpatialDropout2D({ rate: 0.5 }).getConfig(), ['rate', 'noise_shape', 'seed', 'data_format']), { rate: 0.5, noise_shape: null, seed: null, data_format: 'channels_last' });
  assert.deepEqual(pick(L.ActivityRegularization().getConfig(), ['l1', 'l2']), { l1: 0, l2: 0 });
  assert.throws(() => L.GaussianDropout({ rate: 1.5 }), /rate/);
  assert.throws(() => L.SpatialDropout2D({ rate: 0.5, data_format: 'nchw' }), /data_format/);
  assert.throws(() => L.SpatialDropout2D({ rate: 0.5 }).computeOutputShape([null, 3, 4]), /rank-4/);
});

function pick(o: Record<string, unknown>, keys: string[]) {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

const noisy: [string, () => Layer, () => tfl.layers.Layer, number[]][] = [
  ['GaussianNoise', () => L.GaussianNoise({ stddev: 0.5 }), () => tfl.layers.gaussianNoise({ stddev: 0.5 }), [4, 5]],
  ['GaussianDropout', () => L.GaussianDropout({ rate: 0.3 }), () => tfl.layers.gaussianDropout({ rate: 0.3 }), [4, 5]],
  ['AlphaDropout', () => L.AlphaDropout({ rate: 0.3 }), () => tfl.layers.alphaDropout({ rate: 0.3 }), [4, 5]],
  ['SpatialDropout1D', () => L.SpatialDropout1D({ rate: 0.3 }), () => tfl.layers.spatialDropout1d({ rate: 0.3 }), [2, 4, 5]],
];
for (const [name, ours, theirs, shape] of noisy)
  test(`${name}: identity at inference (as tfjs-layers), deterministic per key, needs a key in training`, async () => {
    const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
    const layer = ours();
    const inf = layer.apply({}, {}, x, { training: false }).outputs as tf.Tensor;
    assert.equal(inf, x);
    const ref = theirs().apply(x, { training: false }) as tf.Tensor;
    assert.deepEqual(await ref.data(), await x.data());
    const a = layer.apply({}, {}, x, { training: true, key: 5 }).outputs as tf.Tensor;
    const b = layer.apply({}, {}, x, { training: true, key: 5 }).outputs as tf.Tensor;
    const c = layer.apply({}, {}, x, { training: true, key: 6 }).outputs as tf.Tensor;
    assert.deepEqual(await a.data(), await b.data());
    assert.notDeepEqual(await a.data(), await c.data());
    assert.notDeepEqual(await a.data(), await x.data());
    assert.throws(() => layer.apply({}, {}, x, { training: true }), /key/);
    tf.dispose([x, ref, a, b, c]);
  });

const stats = (v: Float32Array | Int32Array | Uint8Array) => {
  let s = 0;
  let s2 = 0;
  for (const e of v) {
    s += e;
    s2 += e * e;
  }
  const mean = s / v.length;
  return { mean, variance: s2 / v.length - mean * mean };
};

test('GaussianNoise: noise ~ N(0, stddev^2)', () => {
  const x = tf.fill([200, 100], 3);
  const y = L.GaussianNoise({ stddev: 0.7 }).apply({}, {}, x, { training: true, key: 11 }).outputs as tf.Tensor;
  const { mean, variance } = tf.tidy(() => stats(tf.sub(y, x).dataSync() as Float32Array));
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(Math.sqrt(variance) / 0.7 - 1) < 0.02, `std ${Math.sqrt(variance)}`);
  tf.dispose([x, y]);
});

test('GaussianDropout: multiplier ~ N(1, rate / (1 - rate))', () => {
  const x = tf.fill([200, 100], 2);
  const rate = 0.4;
  const y = L.GaussianDropout({ rate }).apply({}, {}, x, { training: true, key: 12 }).outputs as tf.Tensor;
  const { mean, variance } = tf.tidy(() => stats(tf.div(y, x).dataSync() as Float32Array));
  assert.ok(Math.abs(mean - 1) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(variance / (rate / (1 - rate)) - 1) < 0.04, `variance ${variance}`);
  const same = L.GaussianDropout({ rate: 1 }).apply({}, {}, x, { training: true, key: 1 }).outputs;
  assert.equal(same, x);
  tf.dispose([x, y]);
});

test("AlphaDropout: Keras's alpha_p/a/b on every element; keeps a SELU's mean and variance", () => {
  const rate = 0.2;
  const x = tf.tidy(() => tf.selu(tf.randomNormal([400, 500], 0, 1, 'float32', 3)));
  const y = L.AlphaDropout({ rate }).apply({}, {}, x, { training: true, key: 13 }).outputs as tf.Tensor;
  const alphaP = -1.6732632423543772 * 1.0507009873554805;
  const a = ((1 - rate) * (1 + rate * alphaP ** 2)) ** -0.5;
  const b = -a * alphaP * rate;
  const xv = x.dataSync();
  const yv = y.dataSync();
  let kept = 0;
  for (let i = 0; i < xv.length; i++) {
    const ifKept = a * xv[i] + b;
    const ifDropped = a * alphaP + b;
    const isKept = Math.abs(yv[i] - ifKept) <= 1e-5 * (1 + Math.abs(ifKept));
    assert.ok(isKept || Math.abs(yv[i] - ifDropped) <= 1e-5, `element ${i}: ${yv[i]} is neither ${ifKept} nor ${ifDropped}`);
    if (isKept) kept++;
  }
  assert.ok(Math.abs(kept / xv.length - (1 - rate)) < 0.01, `kept ${kept / xv.length}`);
  const before = stats(xv as Float32Array);
  const after = stats(yv as Float32Array);
  assert.ok(Math.abs(after.mean - before.mean) < 0.03, `mean ${before.mean} -> ${after.mean}`);
  assert.ok(Math.abs(after.variance - before.variance) < 0.03, `variance ${before.variance} -> ${after.variance}`);
  tf.dispose([x, y]);
});

test('AlphaDropout noise_shape shares a draw along axes of size 1', () => {
  const x = tf.ones([50, 6, 8]);
  const y = L.AlphaDropout({ rate: 0.5, noise_shape: [null, 1, 8] }).apply({}, {}, x, { training: true, key: 2 }).outputs as tf.Tensor;
  const v = y.arraySync() as number[][][];
  for (const sample of v) for (const row of sample) assert.deepEqual(row, sample[0]);
  tf.dispose([x, y]);
});

const spatial: [string, () => Layer, number[], number][] = [
  ['SpatialDropout1D', () => L.SpatialDropout1D({ rate: 0.3 }), [300, 4, 10], 2],
  ['SpatialDropout2D', () => L.SpatialDropout2D({ rate: 0.3 }), [300, 3, 2, 10], 3],
  ['SpatialDropout2D channels_first', () => L.SpatialDropout2D({ rate: 0.3, data_format: 'channels_first' }), [300, 10, 3, 2], 1],
  ['SpatialDropout3D', () => L.SpatialDropout3D({ rate: 0.3 }), [300, 2, 2, 2, 10], 4],
  ['SpatialDropout3D channels_first', () => L.SpatialDropout3D({ rate: 0.3, data_format: 'channels_first' }), [300, 10, 2, 2, 2], 1],
];
for (const [name, make, shape, channelAxis] of spatial)
  test(`${name}: drops whole channels per sample, keeps ~(1 - rate) scaled by 1 / (1 - rate)`, () => {
    const x = tf.tidy(() => tf.add(tf.abs(tf.randomNormal(shape, 0, 1, 'float32', 4)), 0.1));
    const y = make().apply({}, {}, x, { training: true, key: 21 }).outputs as tf.Tensor;
    // Per (sample, channel): every value dropped, or every value scaled by 1/0.7.
    const perm = [0, channelAxis, ...shape.map((_, i) => i).filter((i) => i !== 0 && i !== channelAxis)];
    const ratio = tf.tidy(() => tf.reshape(tf.transpose(tf.div(y, x), perm), [shape[0] * shape[channelAxis], -1]).arraySync() as number[][]);
    let kept = 0;
    for (const group of ratio) {
      const scaled = group.every((r) => Math.abs(r - 1 / 0.7) < 1e-5);
      const dropped = group.every((r) => r === 0);
      assert.ok(scaled || dropped, `a channel is partly dropped: ${group}`);
      if (scaled) kept++;
    }
    assert.ok(Math.abs(kept / ratio.length - 0.7) < 0.03, `kept ${kept / ratio.length}`);
    tf.dispose([x, y]);
  });

test("ActivityRegularization: Keras's batch-averaged L1/L2 activity loss, training only", async () => {
  const { Model } = await import('../../src/models/model.js');
  const x = tf.tensor2d([[1, -2, 3], [0.5, 0, -1]]);
  const layer = L.ActivityRegularization({ l1: 0.1, l2: 0.01 });
  const out = layer.apply({}, {}, x, { training: true, key: 1 });
  assert.equal(out.outputs, x);
  const penalty = 0.1 * (1 + 2 + 3 + 0.5 + 0 + 1) + 0.01 * (1 + 4 + 9 + 0.25 + 0 + 1);
  const raw = layer.activityRegularization!(out.outputs) as tf.Scalar;
  assert.ok(Math.abs(raw.dataSync()[0] - penalty) < 1e-6, `${raw.dataSync()[0]} vs ${penalty}`);
  // In a model the penalty is divided by the batch size (2), as tf.keras's base Layer does, in training only.
  const input = L.Input({ shape: [3] });
  const model = new Model({ inputs: input, outputs: layer.call(input) }).build(1);
  const training = model.apply(model.variables!.params, model.variables!.state, x, { training: true, key: 1 });
  assert.equal(training.losses!.length, 1);
  assert.ok(Math.abs(training.losses![0].dataSync()[0] - penalty / 2) < 1e-6);
  const inference = model.apply(model.variables!.params, model.variables!.state, x, { training: false });
  assert.equal(inference.losses!.length, 0);
  assert.equal(L.ActivityRegularization().activityRegularization!(x), null);
  tf.dispose([x, raw, ...training.losses!]);
});
