import * as ops from '../ops/index.js';
import { alignWeights } from '../losses/align.js';

/**
 * The running state of a mean: the weighted sum of the values seen and the
 * sum of their weights, as plain JS numbers (float64). A state holds no
 * tensor, so there is nothing to dispose; updating returns a new state.
 */
export interface MeanState {
  readonly total: number;
  readonly count: number;
}

export const emptyMeanState: MeanState = Object.freeze({ total: 0, count: 0 });

/**
 * One batch's contribution to a weighted mean, as Keras's `Reduce` metric
 * (`WEIGHTED_MEAN`) computes it: with weights, the weights are aligned to the
 * values (`squeeze_or_expand_dimensions`), broadcast to their shape, and
 * `[sum(values * w), sum(w)]`; without, `[sum(values), size(values)]`.
 * Returns two scalar tensors the caller owns.
 */
export function weightedStats(values: ops.Tensor, sampleWeight?: ops.Tensor | null): [ops.Scalar, ops.Scalar] {
  return ops.tidy(() => {
    const v = values.dtype === 'float32' ? values : ops.cast(values, 'float32');
    if (!sampleWeight) return [ops.sum(v) as ops.Scalar, ops.scalar(v.size)];
    const w = ops.mul(ops.onesLike(v), alignWeights(v, sampleWeight));
    return [ops.sum(ops.mul(v, w)) as ops.Scalar, ops.sum(w) as ops.Scalar];
  });
}

/** Reads a batch's `[total, count]` scalars (one synchronous read) and disposes them. */
export function readStats(stats: [ops.Scalar, ops.Scalar]): [number, number] {
  const both = ops.tidy(() => ops.stack(stats));
  const [total, count] = both.dataSync();
  ops.dispose([both, ...stats]);
  return [total, count];
}

export function accumulate(state: MeanState, total: number, count: number): MeanState {
  return { total: state.total + total, count: state.count + count };
}

export function mergeStates(a: MeanState, b: MeanState): MeanState {
  return { total: a.total + b.total, count: a.count + b.count };
}

/** `total / count`, or 0 when nothing has been counted (Keras's `div_no_nan`). */
export function meanOf(state: MeanState): number {
  return state.count === 0 ? 0 : state.total / state.count;
}

/**
 * Keras's `Mean` metric, as used for the `loss` log: the weighted average of
 * every value it has been given. `update(state, batchLoss, batchSize)` is
 * how tf.keras 2 tracks the epoch loss (each batch's mean loss weighted by
 * its number of samples).
 */
export interface MeanMetric {
  readonly className: 'Mean';
  readonly name: string;
  readonly config: { name: string; dtype: string };
  init(): MeanState;
  /** Adds `values` (a tensor of any shape, or a number) with optional weights (broadcast against the values). */
  update(state: MeanState, values: ops.Tensor | number, sampleWeight?: ops.Tensor | number | null): MeanState;
  accumulate(state: MeanState, total: number, count: number): MeanState;
  merge(a: MeanState, b: MeanState): MeanState;
  result(state: MeanState): number;
}

export function Mean(config: { name?: string } = {}): MeanMetric {
  const name = config.name ?? 'mean';
  return {
    className: 'Mean',
    name,
    config: { name, dtype: 'float32' },
    init: () => emptyMeanState,
    update(state, values, sampleWeight) {
      if (typeof values === 'number' && (sampleWeight === undefined || sampleWeight === null || typeof sampleWeight === 'number')) {
        const w = sampleWeight ?? 1;
        return accumulate(state, values * w, w);
      }
      const owned: ops.Tensor[] = [];
      const v = typeof values === 'number' ? (owned.push(ops.scalar(values)), owned[0]) : values;
      const w = typeof sampleWeight === 'number' ? (owned.push(ops.scalar(sampleWeight)), owned[owned.length - 1]) : sampleWeight;
      try {
        const [total, count] = readStats(weightedStats(v, w));
        return accumulate(state, total, count);
      } finally {
        ops.dispose(owned);
      }
    },
    accumulate,
    merge: mergeStates,
    result: meanOf,
  };
}
