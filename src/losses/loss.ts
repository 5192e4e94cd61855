import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { decodeConfig, oneOf } from '../core/config.js';
import { alignTargets } from './align.js';

/** Keras's `ReductionV2` values, as they appear in a loss config. */
export const REDUCTIONS = ['auto', 'none', 'sum', 'sum_over_batch_size'] as const;
export type Reduction = (typeof REDUCTIONS)[number];

/** A loss's Keras config: `reduction`, `name` and the function's keyword arguments (snake_case). */
export interface LossConfig {
  reduction: Reduction;
  name: string;
  [key: string]: unknown;
}

/**
 * A loss as a value. `fn` maps targets and predictions to per-sample losses,
 * reduced over the last axis as Keras does (shape `[batch]` for 2-D
 * predictions, `[batch, steps]` for 3-D ones); targets are first aligned to
 * the predictions as tf.keras 2 aligns them (see `alignTargets`). `fn` is
 * pure and returns a new tensor that the caller owns; it keeps no tensor.
 */
export interface LossFunction {
  /** The Keras class (`MeanSquaredError`, `BinaryCrossentropy`, ...), or `LossFunctionWrapper` for a custom function. */
  readonly className: string;
  readonly name: string;
  readonly config: LossConfig;
  fn(yTrue: ops.Tensor, yPred: ops.Tensor): ops.Tensor;
}

/** A custom loss: any function from (targets, predictions) to per-sample losses. */
export type LossFn = (yTrue: ops.Tensor, yPred: ops.Tensor) => ops.Tensor;

export const reductionCodec = oneOf(REDUCTIONS);

const baseCodec = t.partial({ reduction: reductionCodec, name: t.string });

/**
 * Makes a built-in loss from its Keras class name, default name, keyword
 * argument codec and defaults, and a formula over aligned float32 tensors.
 * Unknown config keys are ignored (as `decodeLayerConfig` does).
 */
export function lossFactory<A extends Record<string, unknown>>(
  className: string,
  defaultName: string,
  kwargs: t.Decoder<unknown, Partial<A>>,
  defaults: A,
  formula: (args: A) => (yTrue: ops.Tensor, yPred: ops.Tensor) => ops.Tensor,
): (config?: Partial<LossConfig & A>) => LossFunction {
  return (raw = {}) => {
    const where = `${className} config`;
    const base = decodeConfig(baseCodec, raw, where);
    const own = decodeConfig(kwargs, raw, where);
    const args = { ...defaults } as A;
    for (const key of Object.keys(defaults) as (keyof A)[]) if (own[key] !== undefined) args[key] = own[key] as A[keyof A];
    const config: LossConfig = { reduction: base.reduction ?? 'auto', name: base.name ?? defaultName, ...args };
    const f = formula(args);
    return {
      className,
      name: config.name,
      config,
      fn: (yTrue, yPred) =>
        ops.tidy(() => {
          const [yt, yp] = alignTargets(yTrue, yPred);
          return f(yt, yp);
        }),
    };
  };
}

/**
 * Wraps a custom loss function as a `LossFunction` named after it; targets
 * are aligned to predictions first, as Keras's `LossFunctionWrapper` does.
 */
export function wrapLossFn(fn: LossFn, name = fn.name || 'loss'): LossFunction {
  return {
    className: 'LossFunctionWrapper',
    name,
    config: { reduction: 'auto', name },
    fn: (yTrue, yPred) =>
      ops.tidy(() => {
        const [yt, yp] = alignTargets(yTrue, yPred);
        return fn(yt, yp);
      }),
  };
}
