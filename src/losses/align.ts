import * as ops from '../ops/index.js';

/** Keras's fuzz factor (`keras.backend.epsilon()`), used to clip probabilities. */
export const EPSILON = 1e-7;

/**
 * Brings targets and predictions to matching ranks as tf.keras 2 does before
 * a loss or metric function runs: `match_dtype_and_rank` (a rank-1 target
 * with a rank-2 prediction becomes `[batch, 1]`), then
 * `squeeze_or_expand_dimensions` (a trailing dimension of 1 is squeezed from
 * whichever side has one rank more, except for the sparse case: a target one
 * rank below a prediction whose last dimension is not 1). The target is cast
 * to float32. The caller owns the results (call it inside a tidy).
 */
export function alignTargets(yTrue: ops.Tensor, yPred: ops.Tensor): [ops.Tensor, ops.Tensor] {
  let t = yTrue.dtype === 'float32' ? yTrue : ops.cast(yTrue, 'float32');
  let p = yPred.dtype === 'float32' ? yPred : ops.cast(yPred, 'float32');
  if (t.rank === 1 && p.rank === 2) t = ops.expandDims(t, -1);
  const pLast = p.rank > 0 ? p.shape[p.rank - 1] : undefined;
  if (p.rank - t.rank !== 1 || pLast === 1) {
    const diff = p.rank - t.rank;
    if (diff === 1 && pLast === 1) p = ops.squeeze(p, [-1]);
    else if (diff === -1 && t.shape[t.rank - 1] === 1) t = ops.squeeze(t, [-1]);
  }
  return [t, p];
}

/**
 * Keras's `squeeze_or_expand_dimensions(values, sample_weight=...)`: a weight
 * one rank above the values loses its last axis, one rank below gains one;
 * a scalar weight is left alone. The result broadcasts against `values`.
 */
export function alignWeights(values: ops.Tensor, sampleWeight: ops.Tensor): ops.Tensor {
  let w = sampleWeight.dtype === 'float32' ? sampleWeight : ops.cast(sampleWeight, 'float32');
  if (w.rank === 0) return w;
  if (w.rank - values.rank === 1) w = ops.squeeze(w, [-1]);
  else if (values.rank - w.rank === 1) w = ops.expandDims(w, -1);
  return w;
}

/** A positive axis for `axis` (negative counts from the end). */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
