import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigDecodeError, InvalidArgumentError, UnknownNameError } from '../../src/core/errors.js';
import { computeLoss, getLoss, LOSS_NAMES, serializeLoss, type LossSpec } from '../../src/losses/index.js';
import { assertClose, labels, oneHotRows, ref, rng, sumOverBatch, uniform, type Rows } from './reference.js';

// Every value is compared with a float64 reference (./reference.ts) at
// |got - want| <= 1e-6 + 1e-5 |want| unless a test says otherwise.

const B = 7;
const C = 5;
const r = rng(1234);
const weights = uniform(r, 1, B, 0, 2)[0];
const regTrue = uniform(r, B, C, 0.1, 2);
const regPred = uniform(r, B, C, 0, 2.5);
const probTrue = uniform(r, B, C, 0, 1);
const probPred = uniform(r, B, C, 0.02, 0.98);
const bin = uniform(r, B, C, 0, 1).map((row) => row.map((v) => (v < 0.5 ? 0 : 1)));
const signs = bin.map((row) => row.map((v) => 2 * v - 1));
const logits = uniform(r, B, C, -4, 4);
const cls = labels(r, B, C);
const oneHot = oneHotRows(cls, C);
const positive = uniform(r, B, C, 0.05, 1);
const counts = uniform(r, B, C, 0, 5).map((row) => row.map(Math.round));
const normal = uniform(r, B, C, -2, 2);

interface Case {
  spec: LossSpec;
  yTrue: Rows;
  yPred: Rows;
  want: (t: Rows, p: Rows) => number[];
}

const cases: Case[] = [
  { spec: 'mse', yTrue: regTrue, yPred: regPred, want: ref.mse },
  { spec: 'mean_squared_error', yTrue: regTrue, yPred: regPred, want: ref.mse },
  { spec: 'mae', yTrue: regTrue, yPred: regPred, want: ref.mae },
  { spec: 'mape', yTrue: regTrue, yPred: regPred, want: ref.mape },
  { spec: 'mape', yTrue: normal, yPred: regPred, want: ref.mape },
  { spec: 'msle', yTrue: regTrue, yPred: normal, want: ref.msle },
  { spec: 'logcosh', yTrue: regTrue, yPred: regPred, want: ref.logcosh },
  { spec: 'huber_loss', yTrue: regTrue, yPred: regPred, want: ref.huber(1) },
  { spec: { class_name: 'Huber', config: { delta: 0.4 } }, yTrue: regTrue, yPred: regPred, want: ref.huber(0.4) },
  { spec: 'hinge', yTrue: bin, yPred: normal, want: ref.hinge },
  { spec: 'hinge', yTrue: signs, yPred: normal, want: ref.hinge },
  { spec: 'hinge', yTrue: probTrue, yPred: normal, want: ref.hinge },
  { spec: 'squared_hinge', yTrue: bin, yPred: normal, want: ref.squaredHinge },
  { spec: 'squared_hinge', yTrue: probTrue, yPred: normal, want: ref.squaredHinge },
  { spec: 'categorical_hinge', yTrue: oneHot, yPred: normal, want: ref.categoricalHinge },
  { spec: 'binary_crossentropy', yTrue: bin, yPred: probPred, want: ref.bce() },
  { spec: 'bce', yTrue: probTrue, yPred: probPred, want: ref.bce() },
  { spec: { class_name: 'BinaryCrossentropy', config: { label_smoothing: 0.2 } }, yTrue: bin, yPred: probPred, want: ref.bce(0.2) },
  { spec: { class_name: 'BinaryCrossentropy', config: { from_logits: true } }, yTrue: bin, yPred: logits, want: ref.bceLogits() },
  {
    spec: { class_name: 'BinaryCrossentropy', config: { from_logits: true, label_smoothing: 0.1 } },
    yTrue: probTrue,
    yPred: logits,
    want: ref.bceLogits(0.1),
  },
  { spec: 'categorical_crossentropy', yTrue: oneHot, yPred: positive, want: ref.cce() },
  { spec: 'categorical_crossentropy', yTrue: probTrue, yPred: probPred, want: ref.cce() },
  { spec: { class_name: 'CategoricalCrossentropy', config: { label_smoothing: 0.1 } }, yTrue: oneHot, yPred: positive, want: ref.cce(0.1) },
  { spec: { class_name: 'CategoricalCrossentropy', config: { from_logits: true } }, yTrue: oneHot, yPred: logits, want: ref.cceLogits() },
  {
    spec: { class_name: 'CategoricalCrossentropy', config: { from_logits: true, label_smoothing: 0.3 } },
    yTrue: oneHot,
    yPred: logits,
    want: ref.cceLogits(0.3),
  },
  { spec: 'kld', yTrue: probTrue, yPred: probPred, want: ref.kld },
  { spec: 'kullback_leibler_divergence', yTrue: oneHot, yPred: positive, want: ref.kld },
  { spec: 'poisson', yTrue: counts, yPred: positive, want: ref.poisson },
  { spec: 'cosine_similarity', yTrue: normal, yPred: regPred, want: (t, p) => ref.cosineSimilarity(t, p).map((v) => -v) },
];

const label = (spec: LossSpec) => (typeof spec === 'string' ? spec : JSON.stringify(spec));

for (const c of cases) {
  test(`loss ${label(c.spec)}: per-sample values and weighted reduction match the float64 reference`, () => {
    const before = tf.memory().numTensors;
    const loss = getLoss(c.spec);
    const want = c.want(c.yTrue, c.yPred);
    const yt = tf.tensor2d(c.yTrue);
    const yp = tf.tensor2d(c.yPred);
    const sw = tf.tensor1d(weights);
    const sw2 = tf.tensor2d(weights, [B, 1]);
    const perSample = loss.fn(yt, yp);
    assert.deepEqual(perSample.shape, [B]);
    assertClose(perSample.dataSync(), want, 1e-5, 1e-6, 'per-sample');
    const plain = computeLoss(loss, yt, yp);
    const weighted = computeLoss(loss, yt, yp, sw);
    const weighted2 = computeLoss(loss, yt, yp, sw2);
    assertClose(plain.dataSync(), sumOverBatch(want), 1e-5, 1e-6, 'unweighted');
    assertClose(weighted.dataSync(), sumOverBatch(want, weights), 1e-5, 1e-6, 'weighted [batch]');
    assertClose(weighted2.dataSync(), sumOverBatch(want, weights), 1e-5, 1e-6, 'weighted [batch, 1]');
    tf.dispose([yt, yp, sw, sw2, perSample, plain, weighted, weighted2]);
    assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  });
}

test('3-D predictions give [batch, steps] losses; [batch] weights broadcast over steps', () => {
  const t3 = uniform(r, 6, C, 0, 2);
  const p3 = uniform(r, 6, C, 0, 2);
  const w = [0.5, 2, 1];
  const yt = tf.tensor3d(t3.flat(), [3, 2, C]);
  const yp = tf.tensor3d(p3.flat(), [3, 2, C]);
  const sw = tf.tensor1d(w);
  const loss = getLoss('mse');
  const per = loss.fn(yt, yp);
  assert.deepEqual(per.shape, [3, 2]);
  const want = ref.mse(t3, p3);
  assertClose(per.dataSync(), want);
  const total = computeLoss(loss, yt, yp, sw);
  // Keras divides by the number of loss elements (batch * steps).
  assertClose(total.dataSync(), want.reduce((a, v, i) => a + v * w[Math.floor(i / 2)], 0) / 6);
  tf.dispose([yt, yp, sw, per, total]);
});

test('sum reduction and scalar sample weight', () => {
  const loss = getLoss({ class_name: 'MeanAbsoluteError', config: { reduction: 'sum' } });
  const yt = tf.tensor2d(regTrue);
  const yp = tf.tensor2d(regPred);
  const want = ref.mae(regTrue, regPred);
  const s = computeLoss(loss, yt, yp, tf.scalar(3));
  assertClose(s.dataSync(), 3 * want.reduce((a, b) => a + b, 0));
  const none = getLoss({ class_name: 'MeanAbsoluteError', config: { reduction: 'none' } });
  assert.throws(() => computeLoss(none, yt, yp), InvalidArgumentError);
  tf.dispose([yt, yp, s]);
});

test('targets of shape [batch] are aligned with predictions of shape [batch, 1] as Keras does', () => {
  const t = regTrue.map((row) => row[0]);
  const p = regPred.map((row) => [row[0]]);
  const loss = getLoss('mse');
  const yt = tf.tensor1d(t);
  const yp = tf.tensor2d(p);
  const per = loss.fn(yt, yp);
  assert.deepEqual(per.shape, [B]);
  assertClose(per.dataSync(), t.map((v, i) => (p[i][0] - v) ** 2));
  // [batch, steps] targets with [batch, steps, 1] predictions: the prediction's trailing 1 is squeezed.
  const t2 = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const p3 = tf.tensor3d([[[1], [2], [4]], [[4], [7], [6]]]);
  const per2 = loss.fn(t2, p3);
  assert.deepEqual(per2.shape, [2]);
  assertClose(per2.dataSync(), [1 / 3, 4 / 3]);
  tf.dispose([yt, yp, per, t2, p3, per2]);
});

test('sparse categorical crossentropy: probabilities and logits, [batch] and [batch, 1] int targets, 3-D', () => {
  const probs = positive;
  for (const fromLogits of [false, true]) {
    const loss = getLoss({ class_name: 'SparseCategoricalCrossentropy', config: { from_logits: fromLogits } });
    const p = fromLogits ? logits : probs;
    const want = fromLogits ? ref.scceLogits(cls, p) : ref.scce(cls, p);
    const yp = tf.tensor2d(p);
    for (const yt of [tf.tensor1d(cls, 'int32'), tf.tensor2d(cls, [B, 1], 'int32'), tf.tensor1d(cls, 'float32')]) {
      const per = loss.fn(yt, yp);
      assert.deepEqual(per.shape, [B]);
      assertClose(per.dataSync(), want);
      const s = computeLoss(loss, yt, yp, tf.tensor1d(weights));
      assertClose(s.dataSync(), sumOverBatch(want, weights));
      tf.dispose([yt, per, s]);
    }
    yp.dispose();
  }
  // [2, 3, C] predictions with [2, 3] targets -> [2, 3] losses
  const p3 = uniform(r, 6, C, 0.05, 1);
  const l3 = labels(r, 6, C);
  const out = getLoss('sparse_categorical_crossentropy').fn(tf.tensor2d(l3, [2, 3]), tf.tensor3d(p3.flat(), [2, 3, C]));
  assert.deepEqual(out.shape, [2, 3]);
  assertClose(out.dataSync(), ref.scce(l3, p3));
  assert.throws(() => getLoss('sparse_categorical_crossentropy').fn(tf.tensor1d([0, 1]), tf.tensor2d(probs)), /targets/);
});

test('crossentropy from_logits equals applying sigmoid / softmax first (1e-5 relative)', () => {
  const x = tf.tensor2d(logits);
  const bceL = getLoss({ class_name: 'BinaryCrossentropy', config: { from_logits: true } }).fn(tf.tensor2d(probTrue), x);
  const bceP = getLoss('binary_crossentropy').fn(tf.tensor2d(probTrue), tf.sigmoid(x));
  assertClose(bceL.dataSync(), bceP.dataSync(), 1e-5, 1e-6, 'binary');
  const cceL = getLoss({ class_name: 'CategoricalCrossentropy', config: { from_logits: true } }).fn(tf.tensor2d(oneHot), x);
  const cceP = getLoss('categorical_crossentropy').fn(tf.tensor2d(oneHot), tf.softmax(x));
  assertClose(cceL.dataSync(), cceP.dataSync(), 1e-5, 1e-6, 'categorical');
  const scceL = getLoss({ class_name: 'SparseCategoricalCrossentropy', config: { from_logits: true } }).fn(tf.tensor1d(cls), x);
  const scceP = getLoss('sparse_categorical_crossentropy').fn(tf.tensor1d(cls), tf.softmax(x));
  assertClose(scceL.dataSync(), scceP.dataSync(), 1e-5, 1e-6, 'sparse');
});

test("probabilities at exactly 0 and 1 are clipped with Keras's epsilon", () => {
  const t = [[1, 0, 1, 0]];
  const p = [[0, 1, 1, 0]];
  const got = getLoss('binary_crossentropy').fn(tf.tensor2d(t), tf.tensor2d(p)).dataSync();
  assertClose(got, ref.bce()(t, p), 1e-4, 1e-6, 'bce');
  assert.ok(got[0] > 7 && got[0] < 9, `bce at the clip is about -log(1e-7)/2 = 8.06, got ${got[0]}`);
  const cce = getLoss('categorical_crossentropy').fn(tf.tensor2d([[0, 1, 0]]), tf.tensor2d([[1, 0, 0]])).dataSync();
  assertClose(cce, ref.cce()([[0, 1, 0]], [[1, 0, 0]]), 1e-4, 1e-6, 'cce');
  const kl = getLoss('kld').fn(tf.tensor2d([[0, 1]]), tf.tensor2d([[1, 0]])).dataSync();
  assertClose(kl, ref.kld([[0, 1]], [[1, 0]]), 1e-4, 1e-6, 'kld');
});

test('binary crossentropy from logits has gradient sigmoid(x) - z at x = 0', () => {
  const loss = getLoss({ class_name: 'BinaryCrossentropy', config: { from_logits: true } });
  const z = tf.tensor2d([[0, 1, 0.25]]);
  const g = tf.grad((x: tf.Tensor) => tf.sum(loss.fn(z, x)))(tf.zeros([1, 3]));
  // d/dx mean_j(...) = (sigmoid(x) - z) / 3
  assertClose(g.dataSync(), [0.5 / 3, -0.5 / 3, 0.25 / 3]);
});

test('names, class names and configs follow Keras', () => {
  const expectations: [string, string, string][] = [
    ['mse', 'MeanSquaredError', 'mean_squared_error'],
    ['MSE', 'MeanSquaredError', 'mean_squared_error'],
    ['mae', 'MeanAbsoluteError', 'mean_absolute_error'],
    ['mape', 'MeanAbsolutePercentageError', 'mean_absolute_percentage_error'],
    ['msle', 'MeanSquaredLogarithmicError', 'mean_squared_logarithmic_error'],
    ['kld', 'KLDivergence', 'kl_divergence'],
    ['kullback_leibler_divergence', 'KLDivergence', 'kl_divergence'],
    ['logcosh', 'LogCosh', 'log_cosh'],
    ['huber_loss', 'Huber', 'huber'],
    ['bce', 'BinaryCrossentropy', 'binary_crossentropy'],
    ['MeanSquaredError', 'MeanSquaredError', 'mean_squared_error'],
    ['Huber', 'Huber', 'huber_loss'],
    ['LogCosh', 'LogCosh', 'log_cosh'],
    ['KLDivergence', 'KLDivergence', 'kl_divergence'],
  ];
  for (const [spec, className, name] of expectations) {
    const l = getLoss(spec);
    assert.equal(l.className, className, spec);
    assert.equal(l.name, name, spec);
  }
  assert.deepEqual(serializeLoss(getLoss({ class_name: 'BinaryCrossentropy', config: { from_logits: true, name: 'bxe' } })), {
    class_name: 'BinaryCrossentropy',
    config: { reduction: 'auto', name: 'bxe', from_logits: true, label_smoothing: 0, axis: -1 },
  });
  assert.deepEqual(getLoss('huber_loss').config, { reduction: 'auto', name: 'huber', delta: 1 });
  assert.deepEqual(getLoss('CosineSimilarity').config, { reduction: 'auto', name: 'cosine_similarity', axis: -1 });
});

test('unknown names and bad configs are refused with the known names / the bad field', () => {
  assert.throws(
    () => getLoss('mean_sqared_error'),
    (e: unknown) => e instanceof UnknownNameError && /mean_squared_error/.test(e.message) && /kld/.test(e.message) && e.known === LOSS_NAMES,
  );
  assert.throws(() => getLoss({ class_name: 'Nope' }), (e: unknown) => e instanceof UnknownNameError && /BinaryCrossentropy/.test(e.message));
  assert.throws(() => getLoss({ class_name: 'Huber', config: { delta: 'big' } }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'delta');
  assert.throws(() => getLoss({ class_name: 'MeanSquaredError', config: { reduction: 'mean' } }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'reduction');
});

test('custom loss functions are wrapped, aligned and reduced', () => {
  const loss = getLoss(function myLoss(t: tf.Tensor, p: tf.Tensor) {
    return tf.sum(tf.abs(tf.sub(p, t)), -1);
  });
  assert.equal(loss.name, 'myLoss');
  const s = computeLoss(loss, tf.tensor2d(regTrue), tf.tensor2d(regPred), tf.tensor1d(weights));
  assertClose(s.dataSync(), sumOverBatch(ref.mae(regTrue, regPred).map((v) => v * C), weights));
});
