import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape, Weights } from './layer.js';
import { initWeight, weightFields, weightHooks, weightOptions } from './weight-options.js';

const fields = t.intersection([
  weightFields(['beta', 'gamma']),
  t.partial({
    axis: t.union([t.number, t.array(t.number)]),
    epsilon: t.number,
    center: t.boolean,
    scale: t.boolean,
  }),
]);
export type LayerNormalizationArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `LayerNormalization` (tf.keras 2): each sample is normalised with the
 * mean and (biased) variance over `axis` (default the last; a list allowed),
 * then scaled by `gamma` and shifted by `beta`, whose shape is the input's
 * dims on `axis` (`[d]` for one axis, `[d1, d2]` for two), as Keras builds
 * them: `gamma * (x - mean) / sqrt(var + epsilon) + beta`, epsilon 1e-3.
 */
export function LayerNormalization(args: LayerNormalizationArgs = {}): Layer {
  const c = decodeLayerConfig('LayerNormalization', fields, args);
  const where = `LayerNormalization '${c.name}'`;
  const axisArg = c.axis ?? -1;
  const axisList = typeof axisArg === 'number' ? [axisArg] : axisArg;
  if (axisList.length === 0 || axisList.some((a) => !Number.isInteger(a)))
    throw new ConfigDecodeError('axis', 'an integer or a non-empty list of integers', axisArg, where);
  const epsilon = c.epsilon ?? 1e-3;
  const center = c.center ?? true;
  const scale = c.scale ?? true;
  const { options, fields: w } = weightOptions(c, { beta: 'zeros', gamma: 'ones' }, where);
  const config = {
    ...c,
    axis: axisArg,
    epsilon,
    center,
    scale,
    beta_initializer: w.beta_initializer,
    gamma_initializer: w.gamma_initializer,
    beta_regularizer: w.beta_regularizer,
    gamma_regularizer: w.gamma_regularizer,
    beta_constraint: w.beta_constraint,
    gamma_constraint: w.gamma_constraint,
  };
  /** Keras's `validate_axis`: axes in [-rank, rank), distinct, made non-negative (in the config's order). */
  const axesFor = (rank: number): number[] => {
    const axes = axisList.map((a) => (a < 0 ? a + rank : a));
    if (axes.some((a) => a < 0 || a >= rank) || new Set(axes).size !== axes.length)
      throw new ConfigDecodeError('axis', `distinct axes in [-${rank}, ${rank}) for a rank-${rank} input`, axisArg, where);
    return axes;
  };
  const paramShape = (s: Shape): number[] => {
    const axes = axesFor(s.length);
    if (axes.some((a) => s[a] === null)) throw new ShapeMismatchError(where, `an input with known dims on axes ${axes.join(', ')}`, s);
    return axes.map((a) => s[a] as number);
  };
  return defineLayer<typeof config, Weights, Weights>('LayerNormalization', config, {
    init(key, inputShape) {
      const s = inputShape as Shape;
      const shape = paramShape(s);
      const params: Weights = {};
      if (scale) params.gamma = initWeight(options.gamma, key, 'gamma', shape);
      if (center) params.beta = initWeight(options.beta, key, 'beta', shape);
      return { params, state: {}, outputShape: s };
    },
    apply(params, state, inputs) {
      const x = inputs as ops.Tensor;
      const axes = axesFor(x.rank);
      const outputs = ops.tidy(() => {
        // Keras reshapes gamma/beta (dims in the config's axis order) to the input rank.
        const broadcast = x.shape.map(() => 1);
        axes.forEach((a) => (broadcast[a] = x.shape[a]));
        const b = (w: ops.Tensor) => ops.reshape(w, broadcast);
        const { mean, variance } = ops.moments(x, axes, true);
        let inv = ops.rsqrt(ops.add(variance, epsilon));
        if (scale) inv = ops.mul(inv, b(params.gamma));
        const y = ops.mul(ops.sub(x, mean), inv);
        return center ? ops.add(y, b(params.beta)) : y;
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
    ...weightHooks(options, null),
  });
}
