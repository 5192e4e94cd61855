import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import { alignWeights } from './align.js';
import type { LossFunction } from './loss.js';

/**
 * A loss reduced to one scalar as tf.keras 2 reduces it (`compute_weighted_loss`):
 * per-sample losses times the sample weights (aligned and broadcast as Keras
 * does: `[batch]` or `[batch, 1]` weights, or a scalar), then
 * - `auto` / `sum_over_batch_size`: the weighted sum divided by the number of
 *   loss elements (the batch size for 2-D predictions), not by the sum of
 *   the weights;
 * - `sum`: the weighted sum.
 * `none` has no scalar form: use `loss.fn`. The caller owns the result.
 */
export function computeLoss(loss: LossFunction, yTrue: ops.Tensor, yPred: ops.Tensor, sampleWeight?: ops.Tensor | null): ops.Scalar {
  const reduction = loss.config.reduction;
  if (reduction === 'none')
    throw new InvalidArgumentError(`${loss.name}.reduction`, "'auto', 'sum_over_batch_size' or 'sum' for a scalar loss (use loss.fn for per-sample losses)", reduction);
  return ops.tidy(() => {
    const losses = loss.fn(yTrue, yPred);
    const weighted = sampleWeight ? ops.mul(losses, alignWeights(losses, sampleWeight)) : losses;
    const total = ops.sum(weighted);
    if (reduction === 'sum') return total as ops.Scalar;
    return (weighted.size === 0 ? ops.scalar(0) : ops.div(total, weighted.size)) as ops.Scalar;
  });
}
