import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { decodeConfig } from '../core/config.js';
import { alignTargets } from '../losses/align.js';
import type { MeanState } from './mean.js';
import { accumulate, emptyMeanState, meanOf, mergeStates, readStats, weightedStats } from './mean.js';

/** A metric function: per-sample (or per-element) values from aligned float32 targets and predictions. */
export type MetricFn = (yTrue: ops.Tensor, yPred: ops.Tensor) => ops.Tensor;

/**
 * A streaming metric as a value (Keras's `MeanMetricWrapper`): the weighted
 * mean of `fn` over every sample seen. The state is a `MeanState` of JS
 * numbers, so states hold no tensors and nothing needs disposing; `update`
 * returns a new state and never mutates the old one.
 *
 * `update` reads the batch's two numbers synchronously. A training loop that
 * wants to avoid that read can call `batchStats` inside its own step (it
 * returns two scalar tensors that the caller owns and disposes), read them
 * when it likes, and fold them in with `accumulate`.
 */
export interface Metric {
  /** The Keras class (`BinaryAccuracy`, ...), or `MeanMetricWrapper` for a metric given as a function name. */
  readonly className: string;
  /** The log name: the string the user wrote (`'acc'`, `'mse'`) or the config's `name`. */
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** Per-sample values (targets aligned to predictions as tf.keras 2 aligns them); the caller owns the result. */
  fn(yTrue: ops.Tensor, yPred: ops.Tensor): ops.Tensor;
  /** `[weighted sum, sum of weights]` of this batch as two scalars the caller owns. */
  batchStats(yTrue: ops.Tensor, yPred: ops.Tensor, sampleWeight?: ops.Tensor | null): [ops.Scalar, ops.Scalar];
  init(): MeanState;
  update(state: MeanState, yTrue: ops.Tensor, yPred: ops.Tensor, sampleWeight?: ops.Tensor | null): MeanState;
  accumulate(state: MeanState, total: number, count: number): MeanState;
  /** Combines the states of two shards of the same data (replicas). */
  merge(a: MeanState, b: MeanState): MeanState;
  result(state: MeanState): number;
}

/** A metric from a per-sample function, averaged with sample weights as Keras's `Mean` does. */
export function meanMetricWrapper(
  name: string,
  fn: MetricFn,
  className = 'MeanMetricWrapper',
  config: Record<string, unknown> = { name, dtype: 'float32' },
  result: (state: MeanState) => number = meanOf,
): Metric {
  const aligned = (yTrue: ops.Tensor, yPred: ops.Tensor) =>
    ops.tidy(() => {
      const [yt, yp] = alignTargets(yTrue, yPred);
      return fn(yt, yp);
    });
  const batchStats = (yTrue: ops.Tensor, yPred: ops.Tensor, sampleWeight?: ops.Tensor | null) =>
    ops.tidy(() => weightedStats(aligned(yTrue, yPred), sampleWeight));
  return {
    className,
    name,
    config,
    fn: aligned,
    batchStats,
    init: () => emptyMeanState,
    update(state, yTrue, yPred, sampleWeight) {
      const [total, count] = readStats(batchStats(yTrue, yPred, sampleWeight));
      return accumulate(state, total, count);
    },
    accumulate,
    merge: mergeStates,
    result,
  };
}

/**
 * Makes a built-in metric class from its Keras class name, default name,
 * keyword-argument codec and defaults, and a formula. The config is Keras's
 * (`name`, `dtype`, then the keyword arguments); unknown keys are ignored.
 */
export function metricFactory<A extends Record<string, unknown>>(
  className: string,
  defaultName: string,
  kwargs: t.Decoder<unknown, Partial<A>>,
  defaults: A,
  formula: (args: A) => MetricFn,
  result?: (state: MeanState) => number,
): (config?: Partial<{ name: string; dtype: string } & A>) => Metric {
  const baseCodec = t.partial({ name: t.string, dtype: t.union([t.string, t.null]) });
  return (raw = {}) => {
    const where = `${className} config`;
    const base = decodeConfig(baseCodec, raw, where);
    const own = decodeConfig(kwargs, raw, where);
    const args = { ...defaults } as A;
    for (const key of Object.keys(defaults) as (keyof A)[]) if (own[key] !== undefined) args[key] = own[key] as A[keyof A];
    const name = base.name ?? defaultName;
    return meanMetricWrapper(name, formula(args), className, { name, dtype: 'float32', ...args }, result);
  };
}
