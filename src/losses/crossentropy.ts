import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { EPSILON, normAxis } from './align.js';
import { lossFactory } from './loss.js';

/**
 * `sigmoid_cross_entropy_with_logits` in TensorFlow's stable form
 * `max(x, 0) - x * z + log1p(exp(-|x|))`, written with `where` as TensorFlow
 * does so that the gradient at `x = 0` is `sigmoid(0) - z`.
 */
export function sigmoidCrossEntropyWithLogits(labels: ops.Tensor, logits: ops.Tensor): ops.Tensor {
  const cond = ops.greaterEqual(logits, 0);
  const zeros = ops.zerosLike(logits);
  const reluLogits = ops.where(cond, logits, zeros);
  const negAbsLogits = ops.where(cond, ops.neg(logits), logits);
  return ops.add(ops.sub(reluLogits, ops.mul(logits, labels)), ops.log1p(ops.exp(negAbsLogits)));
}

/**
 * Keras `binary_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis)`:
 * targets smoothed towards 0.5, then the element-wise crossentropy averaged
 * over `axis`. From probabilities, as `keras.backend.binary_crossentropy`:
 * `p = clip(p, eps, 1 - eps)`, `-(z log(p + eps) + (1 - z) log(1 - p + eps))`.
 */
export const binaryCrossentropy =
  (fromLogits = false, labelSmoothing = 0, axis = -1) =>
  (yTrue: ops.Tensor, yPred: ops.Tensor) => {
    const z = labelSmoothing ? ops.add(ops.mul(yTrue, 1 - labelSmoothing), 0.5 * labelSmoothing) : yTrue;
    let bce: ops.Tensor;
    if (fromLogits) bce = sigmoidCrossEntropyWithLogits(z, yPred);
    else {
      const p = ops.clipByValue(yPred, EPSILON, 1 - EPSILON);
      const pos = ops.mul(z, ops.log(ops.add(p, EPSILON)));
      const neg = ops.mul(ops.sub(1, z), ops.log(ops.add(ops.sub(1, p), EPSILON)));
      bce = ops.neg(ops.add(pos, neg));
    }
    return ops.mean(bce, normAxis(axis, bce.rank));
  };

/** Log-softmax over any axis (tfjs's logSoftmax only takes the last). */
function logSoftmaxAxis(x: ops.Tensor, axis: number): ops.Tensor {
  return axis === x.rank - 1 ? ops.logSoftmax(x, -1) : ops.sub(x, ops.logSumExp(x, axis, true));
}

/**
 * Keras `categorical_crossentropy(y_true, y_pred, from_logits, label_smoothing, axis)`:
 * targets smoothed as `y (1 - ls) + ls / classes`; from logits,
 * `-sum(y log_softmax(x))`; from probabilities, as
 * `keras.backend.categorical_crossentropy`: `p / sum(p)`, clipped to
 * `[eps, 1 - eps]`, then `-sum(y log p)` over `axis`.
 */
export const categoricalCrossentropy =
  (fromLogits = false, labelSmoothing = 0, axis = -1) =>
  (yTrue: ops.Tensor, yPred: ops.Tensor) => {
    const ax = normAxis(axis, yPred.rank);
    const classes = yTrue.shape[ax];
    const y = labelSmoothing ? ops.add(ops.mul(yTrue, 1 - labelSmoothing), labelSmoothing / classes) : yTrue;
    if (fromLogits) return ops.neg(ops.sum(ops.mul(y, logSoftmaxAxis(yPred, ax)), ax));
    const p = ops.clipByValue(ops.div(yPred, ops.sum(yPred, ax, true)), EPSILON, 1 - EPSILON);
    return ops.neg(ops.sum(ops.mul(y, ops.log(p)), ax));
  };

/**
 * Keras `sparse_categorical_crossentropy(y_true, y_pred, from_logits)`:
 * integer targets of shape `y_pred.shape[:-1]` (a trailing 1 allowed); from
 * probabilities, as `keras.backend.sparse_categorical_crossentropy`:
 * `p` clipped to `[eps, 1 - eps]`, then `-log_softmax(log p)[target]`.
 * Targets outside `[0, classes)` give a loss of 0 here (TensorFlow raises).
 */
export const sparseCategoricalCrossentropy =
  (fromLogits = false) =>
  (yTrue: ops.Tensor, yPred: ops.Tensor) => {
    const classes = yPred.shape[yPred.rank - 1];
    const outShape = yPred.shape.slice(0, -1);
    const n = outShape.reduce((a, b) => a * b, 1);
    if (yTrue.size !== n)
      throw new ShapeMismatchError('sparse_categorical_crossentropy: targets', `${JSON.stringify(outShape)} (or with a trailing 1)`, yTrue.shape);
    const labels = ops.cast(ops.reshape(yTrue, [n]), 'int32');
    const x = ops.reshape(yPred, [n, classes]);
    const logp = ops.logSoftmax(fromLogits ? x : ops.log(ops.clipByValue(x, EPSILON, 1 - EPSILON)), -1);
    const picked = ops.sum(ops.mul(ops.oneHot(labels, classes), logp), -1);
    return ops.reshape(ops.neg(picked), outShape);
  };

export const BinaryCrossentropy = lossFactory(
  'BinaryCrossentropy',
  'binary_crossentropy',
  t.partial({ from_logits: t.boolean, label_smoothing: t.number, axis: t.number }),
  { from_logits: false, label_smoothing: 0, axis: -1 },
  (a) => binaryCrossentropy(a.from_logits, a.label_smoothing, a.axis),
);

export const CategoricalCrossentropy = lossFactory(
  'CategoricalCrossentropy',
  'categorical_crossentropy',
  t.partial({ from_logits: t.boolean, label_smoothing: t.number, axis: t.number }),
  { from_logits: false, label_smoothing: 0, axis: -1 },
  (a) => categoricalCrossentropy(a.from_logits, a.label_smoothing, a.axis),
);

export const SparseCategoricalCrossentropy = lossFactory(
  'SparseCategoricalCrossentropy',
  'sparse_categorical_crossentropy',
  t.partial({ from_logits: t.boolean, ignore_class: nullable(t.number) }),
  { from_logits: false, ignore_class: null as number | null },
  (a) => {
    if (a.ignore_class !== null)
      throw new ConfigDecodeError('ignore_class', 'null (ignore_class is not supported yet)', a.ignore_class, 'SparseCategoricalCrossentropy config');
    return sparseCategoricalCrossentropy(a.from_logits);
  },
);
