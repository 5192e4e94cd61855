import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigDecodeError, UnknownNameError } from '../../src/core/errors.js';
import { getLoss } from '../../src/losses/index.js';
import { getMetric, Mean, METRIC_NAMES, resolveMetric, targetKind, type Metric, type MetricSpec } from '../../src/metrics/index.js';
import { assertClose, labels, oneHotRows, ref, rng, uniform, weightedMean, type Rows } from '../losses/reference.js';

// Streaming results are compared with a float64 weighted mean over all
// samples at |got - want| <= 1e-6 + 1e-5 |want|.

const N = 12;
const C = 7;
const SPLITS = [5, 4, 3];
const r = rng(99);
const weights = uniform(r, 1, N, 0, 2)[0];
const cls = labels(r, N, C);
const oneHot = oneHotRows(cls, C);
const probs = uniform(r, N, C, 0.01, 1);
// ties: row 0 has its target tied with other classes
probs[0] = probs[0].map(() => 0.5);
const binTrue = uniform(r, N, 3, 0, 1).map((row) => row.map((v) => (v < 0.5 ? 0 : 1)));
const binPred = uniform(r, N, 3, 0, 1);
binPred[1][0] = 0.5; // exactly at the threshold counts as 0
const regTrue = uniform(r, N, C, 0.1, 2);
const regPred = uniform(r, N, C, -1, 2);

type Data = { yTrue: Rows | number[]; yPred: Rows; sparse?: boolean };

/** Feeds `data` to `metric` in batches of 5, 4 and 3 samples, optionally with per-sample weights. */
function stream(metric: Metric, data: Data, w?: number[]): number {
  let state = metric.init();
  let start = 0;
  for (const size of SPLITS) {
    tf.tidy(() => {
      const t = data.sparse ? tf.tensor1d((data.yTrue as number[]).slice(start, start + size)) : tf.tensor2d((data.yTrue as Rows).slice(start, start + size));
      const p = tf.tensor2d(data.yPred.slice(start, start + size));
      const sw = w ? tf.tensor1d(w.slice(start, start + size)) : null;
      state = metric.update(state, t, p, sw);
    });
    start += size;
  }
  return metric.result(state);
}

interface Case {
  spec: MetricSpec;
  name: string;
  data: Data;
  /** Per-sample reference values. */
  want: number[];
}

const cases: Case[] = [
  { spec: 'binary_accuracy', name: 'binary_accuracy', data: { yTrue: binTrue, yPred: binPred }, want: ref.binaryAccuracy()(binTrue, binPred) },
  {
    spec: { class_name: 'BinaryAccuracy', config: { threshold: 0.3, name: 'ba' } },
    name: 'ba',
    data: { yTrue: binTrue, yPred: binPred },
    want: ref.binaryAccuracy(0.3)(binTrue, binPred),
  },
  { spec: 'categorical_accuracy', name: 'categorical_accuracy', data: { yTrue: oneHot, yPred: probs }, want: ref.categoricalAccuracy(oneHot, probs) },
  {
    spec: 'sparse_categorical_accuracy',
    name: 'sparse_categorical_accuracy',
    data: { yTrue: cls, yPred: probs, sparse: true },
    want: ref.sparseCategoricalAccuracy(cls, probs),
  },
  { spec: 'top_k_categorical_accuracy', name: 'top_k_categorical_accuracy', data: { yTrue: oneHot, yPred: probs }, want: ref.sparseTopK(5)(cls, probs) },
  {
    spec: { class_name: 'TopKCategoricalAccuracy', config: { k: 2 } },
    name: 'top_k_categorical_accuracy',
    data: { yTrue: oneHot, yPred: probs },
    want: ref.sparseTopK(2)(cls, probs),
  },
  {
    spec: 'sparse_top_k_categorical_accuracy',
    name: 'sparse_top_k_categorical_accuracy',
    data: { yTrue: cls, yPred: probs, sparse: true },
    want: ref.sparseTopK(5)(cls, probs),
  },
  {
    spec: { class_name: 'SparseTopKCategoricalAccuracy', config: { k: 1 } },
    name: 'sparse_top_k_categorical_accuracy',
    data: { yTrue: cls, yPred: probs, sparse: true },
    want: ref.sparseTopK(1)(cls, probs),
  },
  { spec: 'mse', name: 'mse', data: { yTrue: regTrue, yPred: regPred }, want: ref.mse(regTrue, regPred) },
  { spec: 'MeanSquaredError', name: 'mean_squared_error', data: { yTrue: regTrue, yPred: regPred }, want: ref.mse(regTrue, regPred) },
  { spec: 'mae', name: 'mae', data: { yTrue: regTrue, yPred: regPred }, want: ref.mae(regTrue, regPred) },
  { spec: 'mape', name: 'mape', data: { yTrue: regTrue, yPred: regPred }, want: ref.mape(regTrue, regPred) },
  { spec: 'msle', name: 'msle', data: { yTrue: regTrue, yPred: regPred }, want: ref.msle(regTrue, regPred) },
  { spec: 'cosine_similarity', name: 'cosine_similarity', data: { yTrue: regTrue, yPred: regPred }, want: ref.cosineSimilarity(regTrue, regPred) },
  { spec: 'CosineSimilarity', name: 'cosine_similarity', data: { yTrue: regTrue, yPred: regPred }, want: ref.cosineSimilarity(regTrue, regPred) },
  { spec: 'logcosh', name: 'logcosh', data: { yTrue: regTrue, yPred: regPred }, want: ref.logcosh(regTrue, regPred) },
  { spec: 'LogCoshError', name: 'logcosh', data: { yTrue: regTrue, yPred: regPred }, want: ref.logcosh(regTrue, regPred) },
  { spec: 'huber_loss', name: 'huber_loss', data: { yTrue: regTrue, yPred: regPred }, want: ref.huber(1)(regTrue, regPred) },
  { spec: 'hinge', name: 'hinge', data: { yTrue: binTrue, yPred: binPred }, want: ref.hinge(binTrue, binPred) },
  { spec: 'SquaredHinge', name: 'squared_hinge', data: { yTrue: binTrue, yPred: binPred }, want: ref.squaredHinge(binTrue, binPred) },
  { spec: 'categorical_hinge', name: 'categorical_hinge', data: { yTrue: oneHot, yPred: probs }, want: ref.categoricalHinge(oneHot, probs) },
  { spec: 'poisson', name: 'poisson', data: { yTrue: regTrue, yPred: probs }, want: ref.poisson(regTrue, probs) },
  { spec: 'KLDivergence', name: 'kullback_leibler_divergence', data: { yTrue: oneHot, yPred: probs }, want: ref.kld(oneHot, probs) },
  { spec: 'kld', name: 'kld', data: { yTrue: oneHot, yPred: probs }, want: ref.kld(oneHot, probs) },
  { spec: 'binary_crossentropy', name: 'binary_crossentropy', data: { yTrue: binTrue, yPred: binPred }, want: ref.bce()(binTrue, binPred) },
  {
    spec: { class_name: 'BinaryCrossentropy', config: { label_smoothing: 0.1 } },
    name: 'binary_crossentropy',
    data: { yTrue: binTrue, yPred: binPred },
    want: ref.bce(0.1)(binTrue, binPred),
  },
  { spec: 'categorical_crossentropy', name: 'categorical_crossentropy', data: { yTrue: oneHot, yPred: probs }, want: ref.cce()(oneHot, probs) },
  {
    spec: { class_name: 'CategoricalCrossentropy', config: { from_logits: true } },
    name: 'categorical_crossentropy',
    data: { yTrue: oneHot, yPred: regPred },
    want: ref.cceLogits()(oneHot, regPred),
  },
  {
    spec: 'SparseCategoricalCrossentropy',
    name: 'sparse_categorical_crossentropy',
    data: { yTrue: cls, yPred: probs, sparse: true },
    want: ref.scce(cls, probs),
  },
  { spec: getLoss('mae'), name: 'mean_absolute_error', data: { yTrue: regTrue, yPred: regPred }, want: ref.mae(regTrue, regPred) },
];

for (const c of cases) {
  const label = typeof c.spec === 'string' ? c.spec : 'class_name' in c.spec ? JSON.stringify(c.spec) : `loss ${c.name}`;
  test(`metric ${label}: streamed over batches, with and without sample weights`, () => {
    const before = tf.memory().numTensors;
    const m = getMetric(c.spec);
    assert.equal(m.name, c.name);
    assertClose(stream(m, c.data), weightedMean(c.want), 1e-5, 1e-6, 'unweighted');
    assertClose(stream(m, c.data, weights), weightedMean(c.want, weights), 1e-5, 1e-6, 'weighted');
    assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  });
}

test('top-k counts ties at the boundary as in the top k, as in_top_k does', () => {
  const m = getMetric({ class_name: 'SparseTopKCategoricalAccuracy', config: { k: 1 } });
  const s = m.update(m.init(), tf.tensor1d([2, 0]), tf.tensor2d([[0.2, 0.4, 0.4], [0.1, 0.5, 0.4]]));
  assert.equal(m.result(s), 0.5);
  const nan = m.update(m.init(), tf.tensor1d([1]), tf.tensor2d([[NaN, 0.9, 0.1]]));
  assert.equal(m.result(nan), 0, 'a row with a non-finite score is not in the top k');
});

test('Accuracy (exact equality) and RootMeanSquaredError average element-wise, weights broadcast over the last axis', () => {
  const t = [[1, 2, 3], [4, 5, 6]];
  const p = [[1, 0, 3], [4, 5, 0]];
  const w = [1, 3];
  const acc = getMetric('Accuracy');
  const s = acc.update(acc.init(), tf.tensor2d(t), tf.tensor2d(p), tf.tensor1d(w));
  assertClose(acc.result(s), (2 * 1 + 2 * 3) / (3 * 1 + 3 * 3));
  const rmse = getMetric('RootMeanSquaredError');
  assert.equal(rmse.name, 'root_mean_squared_error');
  const s2 = rmse.update(rmse.init(), tf.tensor2d(regTrue), tf.tensor2d(regPred), tf.tensor1d(weights));
  const sq = regTrue.map((row, i) => row.map((v, j) => (regPred[i][j] - v) ** 2));
  assertClose(rmse.result(s2), Math.sqrt(weightedMean(sq.flat(), sq.flatMap((row, i) => row.map(() => weights[i])))));
});

test('batchStats + accumulate equals update, and merge combines shards', () => {
  const m = getMetric('mse');
  const before = tf.memory().numTensors;
  const [total, count] = m.batchStats(tf.tensor2d(regTrue.slice(0, 6)), tf.tensor2d(regPred.slice(0, 6)), tf.tensor1d(weights.slice(0, 6)));
  const a = m.accumulate(m.init(), total.dataSync()[0], count.dataSync()[0]);
  tf.dispose([total, count]);
  const inputs = [tf.tensor2d(regTrue.slice(6)), tf.tensor2d(regPred.slice(6)), tf.tensor1d(weights.slice(6))];
  const b = m.update(m.init(), inputs[0], inputs[1], inputs[2]);
  tf.dispose(inputs);
  assertClose(m.result(m.merge(a, b)), weightedMean(ref.mse(regTrue, regPred), weights));
  assert.ok(tf.memory().numTensors - before <= 3, 'only the three input tensors of the first call remain');
  assert.equal(m.result(m.init()), 0, 'an empty metric is 0 (div_no_nan)');
});

test('Mean tracks the epoch loss as Keras does: batch means weighted by batch size', () => {
  const mean = Mean({ name: 'loss' });
  assert.equal(mean.name, 'loss');
  let s = mean.init();
  s = mean.update(s, 2, 32);
  s = mean.update(s, tf.scalar(4), 8);
  s = mean.update(s, tf.tensor1d([1, 3]), tf.tensor1d([1, 0]));
  assertClose(mean.result(s), (2 * 32 + 4 * 8 + 1) / (32 + 8 + 1));
  const plain = mean.update(mean.init(), tf.tensor2d([[1, 2], [3, 6]]));
  assert.equal(mean.result(plain), 3);
});

test("'accuracy' / 'acc' / 'crossentropy' resolve from the loss and output shapes, keeping the user's name", () => {
  const table: [string | null, (number | null)[] | null, (number | null)[] | null, string][] = [
    // loss, yTrue shape, yPred shape, expected kind
    ['binary_crossentropy', null, [null, 10], 'binary'],
    ['bce', null, null, 'binary'],
    ['sparse_categorical_crossentropy', null, [null, 10], 'sparse_categorical'],
    ['SparseCategoricalCrossentropy', null, null, 'sparse_categorical'],
    ['categorical_crossentropy', null, [null, 10], 'categorical'],
    ['mse', null, [null, 1], 'binary'],
    ['categorical_crossentropy', null, [null, 1], 'binary'],
    ['mse', null, [null, 3], 'categorical'],
    ['mse', [null, 1], [null, 3], 'sparse_categorical'],
    ['mse', [null], [null, 3], 'sparse_categorical'],
    [null, null, null, 'categorical'],
  ];
  for (const [loss, yTrue, yPred, kind] of table) assert.equal(targetKind(loss, { yTrue, yPred }), kind, `${loss} ${yTrue} ${yPred}`);

  // The resolved function is really the right one: check on data where they disagree.
  const yt = tf.tensor2d([[0, 1, 0], [1, 0, 0]]);
  const yp = tf.tensor2d([[0.2, 0.7, 0.1], [0.3, 0.3, 0.4]]);
  const once = (m: Metric, t: tf.Tensor = yt) => m.result(m.update(m.init(), t, yp));
  const acc = resolveMetric('acc', 'categorical_crossentropy');
  assert.equal(acc.name, 'acc');
  assert.equal(once(acc), 0.5);
  const accB = resolveMetric('accuracy', 'binary_crossentropy');
  assert.equal(accB.name, 'accuracy');
  assertClose(once(accB), (3 / 3 + 2 / 3) / 2); // element-wise threshold at 0.5
  const accS = resolveMetric('accuracy', 'sparse_categorical_crossentropy');
  assert.equal(once(accS, tf.tensor1d([1, 2])), 1);
  const ce = resolveMetric('ce', 'categorical_crossentropy');
  assert.equal(ce.name, 'ce');
  assertClose(once(ce), (-Math.log(0.7) - Math.log(0.3)) / 2);
  const mse = resolveMetric('mse', 'binary_crossentropy');
  assert.equal(mse.name, 'mse');
});

test('unknown metric names are refused listing the known names; bad configs name the field', () => {
  assert.throws(
    () => getMetric('acuracy'),
    (e: unknown) => e instanceof UnknownNameError && e.known === METRIC_NAMES && /binary_accuracy/.test(e.message) && /mse/.test(e.message),
  );
  assert.throws(() => getMetric({ class_name: 'AUCROC' }), (e: unknown) => e instanceof UnknownNameError && /TopKCategoricalAccuracy/.test(e.message));
  assert.throws(() => getMetric({ class_name: 'TopKCategoricalAccuracy', config: { k: '5' } }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'k');
});

test('metric configs follow Keras', () => {
  assert.deepEqual(getMetric('BinaryAccuracy').config, { name: 'binary_accuracy', dtype: 'float32', threshold: 0.5 });
  assert.deepEqual(getMetric('SparseTopKCategoricalAccuracy').config, { name: 'sparse_top_k_categorical_accuracy', dtype: 'float32', k: 5 });
  assert.equal(getMetric('KLDivergence').name, 'kullback_leibler_divergence');
  assert.equal(getMetric('BinaryAccuracy').className, 'BinaryAccuracy');
});
