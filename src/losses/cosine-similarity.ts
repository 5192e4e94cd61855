import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { normAxis } from './align.js';
import { lossFactory } from './loss.js';

/** `tf.math.l2_normalize`: `x / sqrt(max(sum(x^2, axis), 1e-12))`. */
export function l2Normalize(x: ops.Tensor, axis: number): ops.Tensor {
  return ops.mul(x, ops.rsqrt(ops.maximum(ops.sum(ops.square(x), axis, true), 1e-12)));
}

/** `sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`: the metric's sign (1 for equal directions). */
export const cosineSimilarityValue = (axis = -1) => (yTrue: ops.Tensor, yPred: ops.Tensor) => {
  const ax = normAxis(axis, yPred.rank);
  return ops.sum(ops.mul(l2Normalize(yTrue, ax), l2Normalize(yPred, ax)), ax);
};

/** The loss `-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)` (-1 for equal directions). */
export const cosineSimilarity = (axis = -1) => {
  const value = cosineSimilarityValue(axis);
  return (yTrue: ops.Tensor, yPred: ops.Tensor) => ops.neg(value(yTrue, yPred));
};

export const CosineSimilarity = lossFactory(
  'CosineSimilarity',
  'cosine_similarity',
  t.partial({ axis: t.number }),
  { axis: -1 },
  (a) => cosineSimilarity(a.axis),
);
