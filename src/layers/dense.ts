import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { fusedActivation, getActivation } from '../activations/index.js';
import { getRegularizer, serializeRegularizer } from '../regularizers/index.js';
import { spec } from './common.js';
import { decodeLayerConfig, defineLayer, lastDim } from './define-layer.js';
import type { Layer, Shape } from './layer.js';
import { initWeight, weightFields, weightHooks, weightOptions } from './weight-options.js';

const fields = t.intersection([
  t.type({ units: t.number }),
  t.partial({ activation: nullable(t.string), use_bias: t.boolean, activity_regularizer: nullable(spec) }),
  weightFields(['kernel', 'bias']),
]);
export type DenseArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** Keras `Dense`: `activation(inputs @ kernel + bias)` on the last axis. */
export function Dense(args: DenseArgs): Layer {
  const c = decodeLayerConfig('Dense', fields, args);
  const where = `Dense '${c.name}'`;
  if (!Number.isInteger(c.units) || c.units < 1) throw new ConfigDecodeError('units', 'a positive integer', c.units, where);
  const activation = getActivation(c.activation);
  const fused = fusedActivation(c.activation);
  const useBias = c.use_bias ?? true;
  const { options, fields: weightConfig } = weightOptions(c, { kernel: 'glorot_uniform', bias: 'zeros' }, where);
  const activityReg = getRegularizer(c.activity_regularizer, `${where}.activity_regularizer`);
  // Keras's key order: units, activation, use_bias, then the weights' options.
  const config = {
    ...c,
    units: c.units,
    activation: c.activation ?? 'linear',
    use_bias: useBias,
    kernel_initializer: weightConfig.kernel_initializer,
    bias_initializer: weightConfig.bias_initializer,
    kernel_regularizer: weightConfig.kernel_regularizer,
    bias_regularizer: weightConfig.bias_regularizer,
    activity_regularizer: serializeRegularizer(activityReg),
    kernel_constraint: weightConfig.kernel_constraint,
    bias_constraint: weightConfig.bias_constraint,
  };
  const outShape = (s: Shape): Shape => [...s.slice(0, -1), c.units];
  return defineLayer('Dense', config, {
    init(key, inputShape) {
      const s = inputShape as Shape;
      const params: Record<string, ops.Tensor> = { kernel: initWeight(options.kernel, key, 'kernel', [lastDim(s, where), c.units]) };
      if (useBias) params.bias = initWeight(options.bias, key, 'bias', [c.units]);
      return { params, state: {}, outputShape: outShape(s) };
    },
    apply(params, state, inputs) {
      const x = inputs as ops.Tensor;
      const outputs = ops.tidy(() => {
        const flat = (x.rank === 2 ? x : ops.reshape(x, [-1, x.shape[x.rank - 1]])) as ops.Tensor2D;
        // One fused kernel (matmul + bias + activation) where tfjs has one, as tfjs-layers does.
        const y = fused
          ? ops.fused.matMul({ a: flat, b: params.kernel as ops.Tensor2D, bias: useBias ? params.bias : undefined, activation: fused })
          : activation(useBias ? ops.add(ops.matMul(flat, params.kernel), params.bias) : ops.matMul(flat, params.kernel));
        return x.rank === 2 ? y : ops.reshape(y, [...x.shape.slice(0, -1), c.units]);
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
    ...weightHooks(options, activityReg),
  });
}
