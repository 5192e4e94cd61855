import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { intOrTuple, nullable } from '../core/config.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { getActivation } from '../activations/index.js';
import { getRegularizer, serializeRegularizer } from '../regularizers/index.js';
import { checkRank, dataFormatOf, spec } from './common.js';
import {
  convLength,
  convPaddingOf,
  dilateKernelNd,
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
    groups: t.number,
    activation: nullable(t.string),
    use_bias: t.boolean,
    activity_regularizer: nullable(spec),
  }),
  weightFields(['kernel', 'bias']),
]);
export type ConvArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * A Keras `Conv1D` or `Conv3D` (Conv2D lives in conv2d.ts): kernel
 * (...kernel_size, in_channels / groups, filters), bias (filters). Dilation
 * goes through a dilated kernel (tfjs has no dilated conv3d gradient);
 * 'causal' padding (Conv1D only) pads `(kernel - 1) * dilation` steps on the left.
 */
function conv(rank: 1 | 3, className: 'Conv1D' | 'Conv3D', args: ConvArgs): Layer {
  const c = decodeLayerConfig(className, fields, args);
  const where = `${className} '${c.name}'`;
  if (!Number.isInteger(c.filters) || c.filters < 1) throw new ConfigDecodeError('filters', 'a positive integer', c.filters, where);
  const kernelSize = intTuple(c.kernel_size, 1, rank, 'kernel_size', where);
  const strides = intTuple(c.strides, 1, rank, 'strides', where);
  const dilation = intTuple(c.dilation_rate, 1, rank, 'dilation_rate', where);
  const padding = convPaddingOf(c.padding, where, rank === 1);
  // Keras's Conv1D defaults to channels_last whatever the image data format.
  const format = dataFormatOf(c.data_format, where);
  const groups = c.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ConfigDecodeError('groups', 'a positive integer', groups, where);
  if (c.filters % groups !== 0) throw new ConfigDecodeError('groups', `a divisor of filters (${c.filters})`, groups, where);
  if (strides.some((s) => s !== 1) && dilation.some((d) => d !== 1))
    throw new ConfigDecodeError('dilation_rate', 'all 1 when strides are not 1 (Keras does not support both)', dilation, where);
  const activation = getActivation(c.activation);
  const activityReg = getRegularizer(c.activity_regularizer, `${where}.activity_regularizer`);
  const useBias = c.use_bias ?? true;
  const { options, fields: weightConfig } = weightOptions(c, { kernel: 'glorot_uniform', bias: 'zeros' }, where);
  const config = {
    ...c,
    filters: c.filters,
    kernel_size: kernelSize,
    strides,
    padding,
    data_format: format,
    dilation_rate: dilation,
    groups,
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
  const outShape = (s: Shape): Shape => {
    const { batch, spatial } = splitShape(s, rank, format, where);
    return joinShape(batch, spatial.map((d, i) => convLength(d, kernelSize[i], padding, strides[i], dilation[i])), c.filters, format);
  };
  const tfPad = padding === 'same' ? 'same' : 'valid';
  const convOne = (x: ops.Tensor, kernel: ops.Tensor): ops.Tensor =>
    rank === 1
      ? ops.conv1d(x as ops.Tensor3D, kernel as ops.Tensor3D, strides[0], tfPad, 'NWC', dilation[0])
      : ops.conv3d(x as ops.Tensor5D, dilateKernelNd(kernel, dilation) as ops.Tensor5D, strides as [number, number, number], tfPad, 'NDHWC');
  return defineLayer(className, config, {
    init(key, inputShape) {
      const s = inputShape as Shape;
      const channels = knownChannels(s, rank, format, where);
      if (channels % groups !== 0) throw new ShapeMismatchError(`${where}: channels must be divisible by groups (${groups})`, 'a multiple of groups', s);
      const params: Record<string, ops.Tensor> = { kernel: initWeight(options.kernel, key, 'kernel', [...kernelSize, channels / groups, c.filters]) };
      if (useBias) params.bias = initWeight(options.bias, key, 'bias', [c.filters]);
      return { params, state: {}, outputShape: outShape(s) };
    },
    apply(params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, rank + 2, where);
      const outputs = ops.tidy(() => {
        let xl = toChannelsLast(x, format);
        if (padding === 'causal') xl = ops.pad(xl, [[0, 0], [(kernelSize[0] - 1) * dilation[0], 0], [0, 0]]);
        const kernel = params.kernel;
        let y: ops.Tensor;
        if (groups === 1) y = convOne(xl, kernel);
        else {
          const xs = ops.split(xl, groups, rank + 1);
          const ks = ops.split(kernel, groups, rank + 1);
          y = ops.concat(xs.map((xi, i) => convOne(xi, ks[i])), rank + 1);
        }
        if (useBias) y = ops.add(y, params.bias);
        return activation(fromChannelsLast(y, format));
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
    ...weightHooks(options, activityReg),
  });
}

/** Keras `Conv1D`: a temporal convolution over (batch, steps, channels); padding 'valid', 'same' or 'causal'. */
export function Conv1D(args: ConvArgs): Layer {
  return conv(1, 'Conv1D', args);
}

/** Keras `Conv3D`: a volumetric convolution over (batch, dim1, dim2, dim3, channels). */
export function Conv3D(args: ConvArgs): Layer {
  return conv(3, 'Conv3D', args);
}
