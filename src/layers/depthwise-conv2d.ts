import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError } from '../core/errors.js';
import { checkRank } from './common.js';
import { convLength, fromChannelsLast, joinShape, knownChannels, splitShape, toChannelsLast } from './conv-utils.js';
import { convBase, convFields } from './conv-base.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';
import { initWeight, weightHooks } from './weight-options.js';

const fields = t.intersection([t.partial({ depth_multiplier: t.number }), convFields(['depthwise', 'bias'])]);
export type DepthwiseConv2DArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `DepthwiseConv2D`: each input channel convolved with its own
 * `depth_multiplier` filters; `depthwise_kernel` (kh, kw, in_channels,
 * depth_multiplier), `bias` (in_channels * depth_multiplier), output channel
 * `c * depth_multiplier + m` as in TensorFlow.
 */
export function DepthwiseConv2D(args: DepthwiseConv2DArgs): Layer {
  const c = decodeLayerConfig('DepthwiseConv2D', fields, args);
  const base = convBase('DepthwiseConv2D', c, 2, { weights: { depthwise: 'glorot_uniform', bias: 'zeros' } });
  const { where, format, activation, activityReg, useBias, options } = base;
  const padding = base.padding as 'valid' | 'same'; // no 'causal' without the causal option
  const [kernelSize, strides, dilation] = [base.kernelSize, base.strides, base.dilation] as [number, number][];
  const multiplier = c.depth_multiplier ?? 1;
  if (!Number.isInteger(multiplier) || multiplier < 1) throw new ConfigDecodeError('depth_multiplier', 'a positive integer', multiplier, where);
  // tf.keras 2's get_config: Conv2D's keys without filters and kernel_*, plus the depthwise ones.
  const config = { ...base.config, groups: 1, depth_multiplier: multiplier };

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
