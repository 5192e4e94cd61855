import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { EPSILON } from './align.js';
import { lossFactory } from './loss.js';

/** `sum(y_true * log(y_true / y_pred), axis=-1)` with both clipped to `[eps, 1]`. */
export const klDivergence = (yTrue: ops.Tensor, yPred: ops.Tensor) => {
  const yt = ops.clipByValue(yTrue, EPSILON, 1);
  const yp = ops.clipByValue(yPred, EPSILON, 1);
  return ops.sum(ops.mul(yt, ops.log(ops.div(yt, yp))), -1);
};

/** `mean(y_pred - y_true * log(y_pred + eps), axis=-1)`. */
export const poisson = (yTrue: ops.Tensor, yPred: ops.Tensor) =>
  ops.mean(ops.sub(yPred, ops.mul(yTrue, ops.log(ops.add(yPred, EPSILON)))), -1);

const none = t.partial({});
export const KLDivergence = lossFactory('KLDivergence', 'kl_divergence', none, {}, () => klDivergence);
export const Poisson = lossFactory('Poisson', 'poisson', none, {}, () => poisson);
