import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError } from '../core/errors.js';
import { checkRank } from './common.js';
import { convLength, fromChannelsLast, joinShape, knownChannels, splitShape, toChannelsLast } from './conv-utils.js';
import { convBase, convFields } from './conv-base.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';
import { initWeight, weightHooks } from './weight-options.js';

const fields = t.intersection([
  t.type({ filters: t.number }),
  t.partial({ depth_multiplier: t.number, groups: t.number }),
  convFields(['depthwise', 'pointwise', 'bias', 'kernel']),
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
  // kernel_* are Conv's keys, kept in the config as tf.keras 2 writes them (unused).
  const { where, kernelSize, strides, dilation, padding, format, activation, activityReg, useBias, options, config: base } = convBase(className, c, rank, {
    weights: { depthwise: 'glorot_uniform', pointwise: 'glorot_uniform', bias: 'zeros', kernel: 'glorot_uniform' },
    causal: rank === 1,
    groups: true,
  });
  const multiplier = c.depth_multiplier ?? 1;
  if (!Number.isInteger(multiplier) || multiplier < 1) throw new ConfigDecodeError('depth_multiplier', 'a positive integer', multiplier, where);
  const config = { ...base, depth_multiplier: multiplier };

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
