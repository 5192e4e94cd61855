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
  t.type({ kernel_size: intOrTuple }),
  t.partial({
    strides: intOrTuple,
    padding: t.string,
    depth_multiplier: t.number,
    data_format: nullable(t.string),
    dilation_rate: intOrTuple,
    activation: nullable(t.string),
    use_bias: t.boolean,
    activity_regularizer: nullable(spec),
  }),
  weightFields(['depthwise', 'bias']),
]);
export type DepthwiseConv2DArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `DepthwiseConv2D`: each input channel convolved with its own
 * `depth_multiplier` filters; `depthwise_kernel` (kh, kw, in_channels,
 * depth_multiplier), `bias` (in_channels * depth_multiplier), output channel
 * `c * depth_multiplier + m` as in TensorFlow.
 */
export function DepthwiseConv2D(args: DepthwiseConv2DArgs): Layer {
  const c = decodeLayerConfig('DepthwiseConv2D', fields, args);
  const where = `DepthwiseConv2D '${c.name}'`;
  const kernelSize = intTuple(c.kernel_size, 1, 2, 'kernel_size', where) as [number, number];
  const strides = intTuple(c.strides, 1, 2, 'strides', where) as [number, number];
  const dilation = intTuple(c.dilation_rate, 1, 2, 'dilation_rate', where) as [number, number];
  const padding = convPaddingOf(c.padding, where, false) as 'valid' | 'same';
  const format = dataFormatOf(c.data_format, where);
  const multiplier = c.depth_multiplier ?? 1;
  if (!Number.isInteger(multiplier) || multiplier < 1) throw new ConfigDecodeError('depth_multiplier', 'a positive integer', multiplier, where);
  if (strides.some((s) => s !== 1) && dilation.some((d) => d !== 1))
    throw new ConfigDecodeError('dilation_rate', 'all 1 when strides are not 1 (Keras does not support both)', dilation, where);
  const activation = getActivation(c.activation);
  const activityReg = getRegularizer(c.activity_regularizer, `${where}.activity_regularizer`);
  const useBias = c.use_bias ?? true;
  const { options, fields: w } = weightOptions(c, { depthwise: 'glorot_uniform', bias: 'zeros' }, where);
  // tf.keras 2's get_config: Conv2D's keys without filters and kernel_*, plus the depthwise ones.
  const config = {
    ...c,
    kernel_size: kernelSize,
    strides,
    padding,
    data_format: format,
    dilation_rate: dilation,
    groups: 1,
    activation: c.activation ?? 'linear',
    use_bias: useBias,
    bias_initializer: w.bias_initializer,
    bias_regularizer: w.bias_regularizer,
    activity_regularizer: serializeRegularizer(activityReg),
    bias_constraint: w.bias_constraint,
    depth_multiplier: multiplier,
    depthwise_initializer: w.depthwise_initializer,
    depthwise_regularizer: w.depthwise_regularizer,
    depthwise_constraint: w.depthwise_constraint,
  };
  const outShape = (s: Shape): Shape => {
    const { batch, spatial, channels } = splitShape(s, 2, format, where);
    return joinShape(
      batch,
      spatial.map((d, i) => convLength(d, kernelSize[i], padding, strides[i], dilation[i])),
      channels === null ? null : channels * multiplier,
      format,
    );
  };
  return defineLayer('DepthwiseConv2D', config, {
    init(key, inputShape) {
      const s = inputShape as Shape;
      const channels = knownChannels(s, 2, format, where);
      const params: Record<string, ops.Tensor> = {
        depthwise_kernel: initWeight(options.depthwise, key, 'depthwise_kernel', [...kernelSize, channels, multiplier]),
      };
      if (useBias) params.bias = initWeight(options.bias, key, 'bias', [channels * multiplier]);
      return { params, state: {}, outputShape: outShape(s) };
    },
    apply(params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, 4, where);
      const outputs = ops.tidy(() => {
        let y: ops.Tensor = ops.depthwiseConv2d(toChannelsLast(x, format) as ops.Tensor4D, params.depthwise_kernel as ops.Tensor4D, strides, padding, 'NHWC', dilation);
        if (useBias) y = ops.add(y, params.bias);
        return activation(fromChannelsLast(y, format));
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
    // Keras names the options `depthwise_*` and the weight `depthwise_kernel`.
    ...weightHooks({ depthwise_kernel: options.depthwise, bias: options.bias }, activityReg),
  });
}
