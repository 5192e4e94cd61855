import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { metricFactory } from './metric.js';

/** Keras `accuracy`: element-wise `y_true == y_pred` as 0/1 (not reduced). */
export const accuracy = (yTrue: ops.Tensor, yPred: ops.Tensor) => ops.cast(ops.equal(yTrue, yPred), 'float32');

/** Keras `binary_accuracy`: `mean(y_true == (y_pred > threshold), axis=-1)`. */
export const binaryAccuracy =
  (threshold = 0.5) =>
  (yTrue: ops.Tensor, yPred: ops.Tensor) =>
    ops.mean(ops.cast(ops.equal(yTrue, ops.cast(ops.greater(yPred, threshold), 'float32')), 'float32'), -1);

/** Keras `sparse_categorical_matches`: `y_true == argmax(y_pred)`, a trailing 1 in `y_true` squeezed. */
export const sparseCategoricalAccuracy = (yTrue: ops.Tensor, yPred: ops.Tensor) => {
  const labels = yTrue.rank === yPred.rank ? ops.squeeze(yTrue, [-1]) : yTrue;
  return ops.cast(ops.equal(labels, ops.cast(ops.argMax(yPred, -1), 'float32')), 'float32');
};

/** Keras `categorical_accuracy`: `argmax(y_true) == argmax(y_pred)` (first index on ties, as TensorFlow). */
export const categoricalAccuracy = (yTrue: ops.Tensor, yPred: ops.Tensor) =>
  ops.cast(ops.equal(ops.argMax(yTrue, -1), ops.argMax(yPred, -1)), 'float32');

/**
 * TensorFlow's `in_top_k(predictions, targets, k)`: a target is in the top k
 * when fewer than k classes score strictly higher (ties at the boundary all
 * count as in); a row with a non-finite score or an out-of-range target is not.
 * `predictions` is `[n, classes]`, `targets` `[n]` (any numeric dtype).
 */
export function inTopK(predictions: ops.Tensor, targets: ops.Tensor, k: number): ops.Tensor {
  const classes = predictions.shape[predictions.rank - 1];
  const ids = ops.cast(targets, 'int32');
  const targetScore = ops.sum(ops.mul(ops.oneHot(ids, classes), predictions), -1, true);
  const higher = ops.sum(ops.cast(ops.greater(predictions, targetScore), 'float32'), -1);
  const finite = ops.all(ops.isFinite(predictions), -1);
  const inRange = ops.logicalAnd(ops.greaterEqual(ids, 0), ops.less(ids, classes));
  return ops.logicalAnd(ops.logicalAnd(ops.less(higher, k), finite), inRange);
}

/** Keras `sparse_top_k_categorical_matches`: `in_top_k` on flattened predictions and targets. */
export const sparseTopKCategoricalAccuracy =
  (k = 5) =>
  (yTrue: ops.Tensor, yPred: ops.Tensor) => {
    const classes = yPred.shape[yPred.rank - 1];
    const preds = yPred.rank > 2 ? ops.reshape(yPred, [-1, classes]) : yPred;
    const labels = ops.reshape(yTrue, [-1]);
    return ops.cast(inTopK(preds, labels, k), 'float32');
  };

/** Keras `top_k_categorical_accuracy`: `in_top_k(y_pred, argmax(y_true), k)`. */
export const topKCategoricalAccuracy =
  (k = 5) =>
  (yTrue: ops.Tensor, yPred: ops.Tensor) =>
    sparseTopKCategoricalAccuracy(k)(ops.argMax(yTrue, -1), yPred);

const none = t.partial({});
export const Accuracy = metricFactory('Accuracy', 'accuracy', none, {}, () => accuracy);
export const BinaryAccuracy = metricFactory('BinaryAccuracy', 'binary_accuracy', t.partial({ threshold: t.number }), { threshold: 0.5 }, (a) =>
  binaryAccuracy(a.threshold),
);
export const CategoricalAccuracy = metricFactory('CategoricalAccuracy', 'categorical_accuracy', none, {}, () => categoricalAccuracy);
export const SparseCategoricalAccuracy = metricFactory(
  'SparseCategoricalAccuracy',
  'sparse_categorical_accuracy',
  none,
  {},
  () => sparseCategoricalAccuracy,
);
export const TopKCategoricalAccuracy = metricFactory('TopKCategoricalAccuracy', 'top_k_categorical_accuracy', t.partial({ k: t.number }), { k: 5 }, (a) =>
  topKCategoricalAccuracy(a.k),
);
export const SparseTopKCategoricalAccuracy = metricFactory(
  'SparseTopKCategoricalAccuracy',
  'sparse_top_k_categorical_accuracy',
  t.partial({ k: t.number }),
  { k: 5 },
  (a) => sparseTopKCategoricalAccuracy(a.k),
);
