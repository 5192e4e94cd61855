import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { lossFactory } from './loss.js';

/**
 * Keras's `_maybe_convert_labels`: when every target in the batch is 0 or 1,
 * the targets become -1 / 1; otherwise they are used as given.
 */
export function maybeConvertLabels(yTrue: ops.Tensor): ops.Tensor {
  const isBinary = ops.cast(ops.all(ops.logicalOr(ops.equal(yTrue, 0), ops.equal(yTrue, 1))), 'float32');
  // y + b * (y - 1): 2y - 1 when binary (b = 1), y otherwise.
  return ops.add(yTrue, ops.mul(isBinary, ops.sub(yTrue, 1)));
}

/** `mean(maximum(1 - y_true * y_pred, 0), axis=-1)`, with 0/1 targets mapped to -1/1. */
export const hinge = (yTrue: ops.Tensor, yPred: ops.Tensor) =>
  ops.mean(ops.maximum(ops.sub(1, ops.mul(maybeConvertLabels(yTrue), yPred)), 0), -1);

/** `mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)`, with 0/1 targets mapped to -1/1. */
export const squaredHinge = (yTrue: ops.Tensor, yPred: ops.Tensor) =>
  ops.mean(ops.square(ops.maximum(ops.sub(1, ops.mul(maybeConvertLabels(yTrue), yPred)), 0)), -1);

/** `maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)` over the last axis. */
export const categoricalHinge = (yTrue: ops.Tensor, yPred: ops.Tensor) => {
  const pos = ops.sum(ops.mul(yTrue, yPred), -1);
  const neg = ops.max(ops.mul(ops.sub(1, yTrue), yPred), -1);
  return ops.maximum(ops.add(ops.sub(neg, pos), 1), 0);
};

const none = t.partial({});
export const Hinge = lossFactory('Hinge', 'hinge', none, {}, () => hinge);
export const SquaredHinge = lossFactory('SquaredHinge', 'squared_hinge', none, {}, () => squaredHinge);
export const CategoricalHinge = lossFactory('CategoricalHinge', 'categorical_hinge', none, {}, () => categoricalHinge);
