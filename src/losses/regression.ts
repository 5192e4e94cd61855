import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { EPSILON } from './align.js';
import { lossFactory } from './loss.js';

const none = t.partial({});
const lastMean = (x: ops.Tensor) => ops.mean(x, -1);

/** `mean(square(y_pred - y_true), axis=-1)`. */
export const meanSquaredError = (yTrue: ops.Tensor, yPred: ops.Tensor) => lastMean(ops.squaredDifference(yPred, yTrue));

/** `mean(abs(y_pred - y_true), axis=-1)`. */
export const meanAbsoluteError = (yTrue: ops.Tensor, yPred: ops.Tensor) => lastMean(ops.abs(ops.sub(yPred, yTrue)));

/** `100 * mean(abs((y_true - y_pred) / maximum(abs(y_true), epsilon)), axis=-1)`. */
export const meanAbsolutePercentageError = (yTrue: ops.Tensor, yPred: ops.Tensor) =>
  ops.mul(lastMean(ops.abs(ops.div(ops.sub(yTrue, yPred), ops.maximum(ops.abs(yTrue), EPSILON)))), 100);

/** `mean(square(log(maximum(y_pred, eps) + 1) - log(maximum(y_true, eps) + 1)), axis=-1)`. */
export const meanSquaredLogarithmicError = (yTrue: ops.Tensor, yPred: ops.Tensor) => {
  const first = ops.log(ops.add(ops.maximum(yPred, EPSILON), 1));
  const second = ops.log(ops.add(ops.maximum(yTrue, EPSILON), 1));
  return lastMean(ops.squaredDifference(first, second));
};

/** `mean(log(cosh(y_pred - y_true)), axis=-1)`, computed as `x + softplus(-2x) - log(2)`. */
export const logCosh = (yTrue: ops.Tensor, yPred: ops.Tensor) => {
  const x = ops.sub(yPred, yTrue);
  return lastMean(ops.sub(ops.add(x, ops.softplus(ops.mul(x, -2))), Math.LN2));
};

/** Keras `huber(y_true, y_pred, delta)`: quadratic within `delta`, linear outside, averaged over the last axis. */
export const huber = (delta: number) => (yTrue: ops.Tensor, yPred: ops.Tensor) => {
  const error = ops.sub(yPred, yTrue);
  const absError = ops.abs(error);
  const quadratic = ops.mul(ops.square(error), 0.5);
  const linear = ops.sub(ops.mul(absError, delta), 0.5 * delta * delta);
  return lastMean(ops.where(ops.lessEqual(absError, delta), quadratic, linear));
};

export const MeanSquaredError = lossFactory('MeanSquaredError', 'mean_squared_error', none, {}, () => meanSquaredError);
export const MeanAbsoluteError = lossFactory('MeanAbsoluteError', 'mean_absolute_error', none, {}, () => meanAbsoluteError);
export const MeanAbsolutePercentageError = lossFactory(
  'MeanAbsolutePercentageError',
  'mean_absolute_percentage_error',
  none,
  {},
  () => meanAbsolutePercentageError,
);
export const MeanSquaredLogarithmicError = lossFactory(
  'MeanSquaredLogarithmicError',
  'mean_squared_logarithmic_error',
  none,
  {},
  () => meanSquaredLogarithmicError,
);
export const LogCosh = lossFactory('LogCosh', 'log_cosh', none, {}, () => logCosh);
export const Huber = lossFactory('Huber', 'huber_loss', t.partial({ delta: t.number }), { delta: 1.0 }, (a) => huber(a.delta));
