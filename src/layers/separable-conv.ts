import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { intOrTuple, nullable } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { getActivation } from '../activations/index.js';
import { getRegularizer, serializeRegularizer } from '../regularizers/index.js';
import { checkRank, dataFormatOf, spec } from './common.js';
import {
  convLength,
  convPaddingOf,
  fromChannelsLast,
  intTuple,
  joinShape,
  knownChannels,
  splitShape,
  toChannelsLast,
} from './conv-utils.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';
import { initWeight, weightFields, weightHooks, weightOptions } from './weight-options.js';

const fields = t.intersection([
  t.type({ filters: t.number, kernel_size: intOrTuple }),
  t.partial({
    strides: intOrTuple,
    padding: t.string,
    data_format: nullable(t.string),
    dilation_rate: intOrTuple,
    depth_multiplier: t.number,
    groups: t.number,
    activation: nullable(t.string),
    use_bias: t.boolean,
    activity_regularizer: nullable(spec),
  }),
  weightFields(['depthwise', 'pointwise', 'bias', 'kernel']),
]);
export type SeparableConvArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `SeparableConv1D` / `SeparableConv2D`: a depthwise convolution
 * (`depthwise_kernel` (...kernel_size, in, depth_multiplier)), then a 1x1
 * convolution (`pointwise_kernel` (1, ..., in * depth_multiplier, filters)),
 * plus `bias` (filters). The 1D layer runs as the 2D one on a height-1 input,
 * as Keras does; it also takes 'causal' padding.
 */
function separableConv(rank: 1 | 2, className: 'SeparableConv1D' | 'SeparableConv2D', args: SeparableConvArgs): Layer {
  const c = decodeLayerConfig(className, fields, args);
  const where = `${className} '${c.name}'`;
  if (!Number.isInteger(c.filters) || c.filters < 1) throw new ConfigDecodeError('filters', 'a positive integer', c.filters, where);
  const kernelSize = intTuple(c.kernel_size, 1, rank, 'kernel_size', where);
  const strides = intTuple(c.strides, 1, rank, 'strides', where);
  const dilation = intTuple(c.dilation_rate, 1, rank, 'dilation_rate', where);
  const padding = convPaddingOf(c.padding, where, rank === 1);
  const format = dataFormatOf(c.data_format, where);
  const multiplier = c.depth_multiplier ?? 1;
  if (!Number.isInteger(multiplier) || multiplier < 1) throw new ConfigDecodeError('depth_multiplier', 'a positive integer', multiplier, where);
  if (strides.some((s) => s !== 1) && dilation.some((d) => d !== 1))
    throw new ConfigDecodeError('dilation_rate', 'all 1 when strides are not 1 (Keras does not support both)', dilation, where);
  const activation = getActivation(c.activation);
  const activityReg = getRegularizer(c.activity_regularizer, `${where}.activity_regularizer`);
  const useBias = c.use_bias ?? true;
  // kernel_* are Conv's keys, kept in the config as tf.keras 2 writes them (unused).
  const { options, fields: w } = weightOptions(c, { depthwise: 'glorot_uniform', pointwise: 'glorot_uniform', bias: 'zeros', kernel: 'glorot_uniform' }, where);
  const config = {
    ...c,
    filters: c.filters,
    kernel_size: kernelSize,
    strides,
    padding,
    data_format: format,
    dilation_rate: dilation,
    groups: c.groups ?? 1,
    activation: c.activation ?? 'linear',
    use_bias: useBias,
    kernel_initializer: w.kernel_initializer,
    bias_initializer: w.bias_initializer,
    kernel_regularizer: w.kernel_regularizer,
    bias_regularizer: w.bias_regularizer,
    activity_regularizer: serializeRegularizer(activityReg),
    kernel_constraint: w.kernel_constraint,
    bias_constraint: w.bias_constraint,
    depth_multiplier: multiplier,
    depthwise_initializer: w.depthwise_initializer,
    pointwise_initializer: w.pointwise_initializer,
    depthwise_regularizer: w.depthwise_regularizer,
    pointwise_regularizer: w.pointwise_regularizer,
    depthwise_constraint: w.depthwise_constraint,
    pointwise_constraint: w.pointwise_constraint,
  };
  const weights = { depthwise_kernel: options.depthwise, pointwise_kernel: options.pointwise, bias: options.bias };
  const outShape = (s: Shape): Shape => {
    const { batch, spatial } = splitShape(s, rank, format, where);
    return joinShape(batch, spatial.map((d, i) => convLength(d, kernelSize[i], padding, strides[i], dilation[i])), c.filters, format);
  };
  const tfPad = padding === 'same' ? 'same' : 'valid';
  const pair = (v: number[]): [number, number] => (rank === 1 ? [1, v[0]] : [v[0], v[1]]);
  return defineLayer(className, config, {
    init(key, inputShape) {
      const s = inputShape as Shape;
      const channels = knownChannels(s, rank, format, where);
      const params: Record<string, ops.Tensor> = {
        depthwise_kernel: initWeight(options.depthwise, key, 'depthwise_kernel', [...kernelSize, channels, multiplier]),
        pointwise_kernel: initWeight(options.pointwise, key, 'pointwise_kernel', [...kernelSize.map(() => 1), channels * multiplier, c.filters]),
      };
      if (useBias) params.bias = initWeight(options.bias, key, 'bias', [c.filters]);
      return { params, state: {}, outputShape: outShape(s) };
    },
    apply(params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, rank + 2, where);
      const outputs = ops.tidy(() => {
        let xl = toChannelsLast(x, format);
        if (padding === 'causal') xl = ops.pad(xl, [[0, 0], [(kernelSize[0] - 1) * dilation[0], 0], [0, 0]]);
        let dw = params.depthwise_kernel;
        let pw = params.pointwise_kernel;
        if (rank === 1) {
          xl = ops.expandDims(xl, 1);
          dw = ops.expandDims(dw, 0);
          pw = ops.expandDims(pw, 0);
        }
        let y: ops.Tensor = ops.separableConv2d(xl as ops.Tensor4D, dw as ops.Tensor4D, pw as ops.Tensor4D, pair(strides), tfPad, pair(dilation), 'NHWC');
        if (rank === 1) y = ops.squeeze(y, [1]);
        if (useBias) y = ops.add(y, params.bias);
        return activation(fromChannelsLast(y, format));
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
    ...weightHooks(weights, activityReg),
  });
}

/** Keras `SeparableConv1D`. */
export function SeparableConv1D(args: SeparableConvArgs): Layer {
  return separableConv(1, 'SeparableConv1D', args);
}

/** Keras `SeparableConv2D`. */
export function SeparableConv2D(args: SeparableConvArgs): Layer {
  return separableConv(2, 'SeparableConv2D', args);
}
