import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { foldIn } from '../core/rng.js';
import { getInitializer, serializeInitializer } from '../initializers/index.js';
import { spec } from './common.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape, Weights } from './layer.js';
import { initWeight, weightFields, weightHooks, weightOptions } from './weight-options.js';

const fields = t.intersection([
  weightFields(['beta', 'gamma']),
  t.partial({
    axis: t.union([t.number, t.array(t.number)]),
    momentum: t.number,
    epsilon: t.number,
    center: t.boolean,
    scale: t.boolean,
    moving_mean_initializer: spec,
    moving_variance_initializer: spec,
  }),
]);
export type BatchNormalizationArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `BatchNormalization` (tf.keras 2 semantics). Params `gamma` (when
 * `scale`) and `beta` (when `center`); state `moving_mean` and
 * `moving_variance`. In training (and not frozen) it normalises with the
 * batch mean and biased variance and returns the moving statistics updated
 * as `moving - (moving - batch) * (1 - momentum)`. As in tf.keras 2, a rank
 * 4 or 5 input normalised on axis 1 or the last axis takes the fused path,
 * whose batch variance for the moving average carries Bessel's correction
 * (n / (n - 1)); other inputs use the biased variance, as `tf.nn.moments`.
 * At inference it uses the moving statistics. A layer in a frozen model
 * runs in inference mode (`inferenceWhenFrozen`).
 */
export function BatchNormalization(args: BatchNormalizationArgs = {}): Layer {
  const c = decodeLayerConfig('BatchNormalization', fields, args);
  const where = `BatchNormalization '${c.name}'`;
  const axisArg = c.axis ?? -1;
  const axisList = typeof axisArg === 'number' ? [axisArg] : axisArg;
  if (axisList.length === 0 || axisList.some((a) => !Number.isInteger(a)))
    throw new ConfigDecodeError('axis', 'an integer or a list of integers', axisArg, where);
  const momentum = c.momentum ?? 0.99;
  const epsilon = c.epsilon ?? 1e-3;
  const center = c.center ?? true;
  const scale = c.scale ?? true;
  const { options, fields: w } = weightOptions(c, { beta: 'zeros', gamma: 'ones' }, where);
  const meanInit = getInitializer(c.moving_mean_initializer ?? 'zeros', `${where}.moving_mean_initializer`);
  const varInit = getInitializer(c.moving_variance_initializer ?? 'ones', `${where}.moving_variance_initializer`);
  const config = {
    ...c,
    axis: axisArg,
    momentum,
    epsilon,
    center,
    scale,
    beta_initializer: w.beta_initializer,
    gamma_initializer: w.gamma_initializer,
    moving_mean_initializer: serializeInitializer(meanInit),
    moving_variance_initializer: serializeInitializer(varInit),
    beta_regularizer: w.beta_regularizer,
    gamma_regularizer: w.gamma_regularizer,
    beta_constraint: w.beta_constraint,
    gamma_constraint: w.gamma_constraint,
  };

  /** Normalised (non-negative, sorted) axes for an input of the given rank. */
  const axesFor = (rank: number): number[] => {
    const axes = axisList.map((a) => (a < 0 ? a + rank : a));
    if (axes.some((a) => a < 1 || a >= rank) || new Set(axes).size !== axes.length)
      throw new ConfigDecodeError('axis', `distinct axes in [1, ${rank}) (or negative) for a rank-${rank} input`, axisArg, where);
    return [...axes].sort((a, b) => a - b);
  };
  /** Keras's param shape: (dim,) for one axis, else the input shape with 1 on the other axes. */
  const paramShape = (s: Shape): number[] => {
    const axes = axesFor(s.length);
    if (axes.some((a) => s[a] === null)) throw new ShapeMismatchError(where, `an input with known dims on axes ${axes.join(', ')}`, s);
    return axes.length === 1 ? [s[axes[0]] as number] : s.map((d, i) => (axes.includes(i) ? (d as number) : 1));
  };

  return defineLayer<typeof config, Weights, Weights>('BatchNormalization', config, {
    inferenceWhenFrozen: true,
    init(key, inputShape) {
      const s = inputShape as Shape;
      const shape = paramShape(s);
      const params: Weights = {};
      if (scale) params.gamma = initWeight(options.gamma, key, 'gamma', shape);
      if (center) params.beta = initWeight(options.beta, key, 'beta', shape);
      const state: Weights = {
        moving_mean: meanInit.init(foldIn(key, 'moving_mean'), shape),
        moving_variance: varInit.init(foldIn(key, 'moving_variance'), shape),
      };
      return { params, state, outputShape: s };
    },
    apply(params, state, inputs, options) {
      const x = inputs as ops.Tensor;
      const rank = x.rank;
      const axes = axesFor(rank);
      const reduction = Array.from({ length: rank }, (_, i) => i).filter((i) => !axes.includes(i));
      const broadcast = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
      const b = (w: ops.Tensor) => (w.rank === rank ? w : ops.reshape(w, broadcast));
      const normalize = (mean: ops.Tensor, variance: ops.Tensor) => {
        const inv = ops.mul(ops.rsqrt(ops.add(variance, epsilon)), scale ? b(params.gamma) : 1);
        const shifted = ops.mul(ops.sub(x, mean), inv);
        return center ? ops.add(shifted, b(params.beta)) : shifted;
      };
      if (!options.training || options.frozen) {
        const outputs = ops.tidy(() => normalize(b(state.moving_mean), b(state.moving_variance)));
        return { outputs, state };
      }
      const fused = (rank === 4 || rank === 5) && axes.length === 1 && (axes[0] === 1 || axes[0] === rank - 1);
      const n = reduction.reduce((acc, i) => acc * x.shape[i], 1);
      const [outputs, movingMean, movingVariance] = ops.tidy(() => {
        const { mean, variance } = ops.moments(x, reduction, true);
        const y = normalize(mean, variance);
        const shape = state.moving_mean.shape;
        const batchMean = ops.reshape(mean, shape);
        let batchVar = ops.reshape(variance, shape);
        if (fused && n > 1) batchVar = ops.mul(batchVar, n / (n - 1));
        const decay = 1 - momentum;
        const mm = ops.sub(state.moving_mean, ops.mul(ops.sub(state.moving_mean, batchMean), decay));
        const mv = ops.sub(state.moving_variance, ops.mul(ops.sub(state.moving_variance, batchVar), decay));
        return [y, mm, mv];
      });
      return { outputs, state: { moving_mean: movingMean, moving_variance: movingVariance } };
    },
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
    ...weightHooks(options, null),
  });
}
