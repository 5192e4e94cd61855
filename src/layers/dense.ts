import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { foldIn } from '../core/rng.js';
import { fusedActivation, getActivation } from '../activations/index.js';
import { getInitializer, serializeInitializer } from '../initializers/index.js';
import { getRegularizer, serializeRegularizer } from '../regularizers/index.js';
import { getConstraint, serializeConstraint } from '../constraints/index.js';
import { decodeLayerConfig, defineLayer, lastDim, penalty } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const spec = t.union([t.string, t.intersection([t.type({ class_name: t.string }), t.partial({ config: t.UnknownRecord })])]);
const fields = t.intersection([
  t.type({ units: t.number }),
  t.partial({
    activation: nullable(t.string),
    use_bias: t.boolean,
    kernel_initializer: spec,
    bias_initializer: spec,
    kernel_regularizer: nullable(spec),
    bias_regularizer: nullable(spec),
    activity_regularizer: nullable(spec),
    kernel_constraint: nullable(spec),
    bias_constraint: nullable(spec),
  }),
]);
export type DenseArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** Keras `Dense`: `activation(inputs @ kernel + bias)` on the last axis. */
export function Dense(args: DenseArgs): Layer {
  const c = decodeLayerConfig('Dense', fields, args);
  const where = `Dense '${c.name}'`;
  const activation = getActivation(c.activation);
  const fused = fusedActivation(c.activation);
  const kernelInit = getInitializer(c.kernel_initializer ?? 'glorot_uniform', `${where}.kernel_initializer`);
  const biasInit = getInitializer(c.bias_initializer ?? 'zeros', `${where}.bias_initializer`);
  const kernelReg = getRegularizer(c.kernel_regularizer, `${where}.kernel_regularizer`);
  const biasReg = getRegularizer(c.bias_regularizer, `${where}.bias_regularizer`);
  const activityReg = getRegularizer(c.activity_regularizer, `${where}.activity_regularizer`);
  const kernelConstraint = getConstraint(c.kernel_constraint, `${where}.kernel_constraint`);
  const biasConstraint = getConstraint(c.bias_constraint, `${where}.bias_constraint`);
  const useBias = c.use_bias ?? true;
  if (!Number.isInteger(c.units) || c.units < 1) throw new ConfigDecodeError('units', 'a positive integer', c.units, where);
  const config = {
    ...c,
    units: c.units,
    activation: c.activation ?? 'linear',
    use_bias: useBias,
    kernel_initializer: serializeInitializer(kernelInit),
    bias_initializer: serializeInitializer(biasInit),
    kernel_regularizer: serializeRegularizer(kernelReg),
    bias_regularizer: serializeRegularizer(biasReg),
    activity_regularizer: serializeRegularizer(activityReg),
    kernel_constraint: serializeConstraint(kernelConstraint),
    bias_constraint: serializeConstraint(biasConstraint),
  };
  const outShape = (s: Shape): Shape => [...s.slice(0, -1), c.units];
  return defineLayer('Dense', config, {
    init(key, inputShape) {
      const s = inputShape as Shape;
      const inDim = lastDim(s, where);
      const params: Record<string, ops.Tensor> = { kernel: kernelInit.init(foldIn(key, 'kernel'), [inDim, c.units]) };
      if (useBias) params.bias = biasInit.init(foldIn(key, 'bias'), [c.units]);
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
    regularization: (p) => penalty([[kernelReg, p.kernel], [biasReg, p.bias]]),
    activityRegularization: activityReg ? (y) => activityReg.loss(y as ops.Tensor) : undefined,
    constrain:
      kernelConstraint || biasConstraint
        ? (p) => ({
            ...p,
            kernel: kernelConstraint ? kernelConstraint.apply(p.kernel) : p.kernel,
            ...(p.bias ? { bias: biasConstraint ? biasConstraint.apply(p.bias) : p.bias } : {}),
          })
        : undefined,
  });
}
