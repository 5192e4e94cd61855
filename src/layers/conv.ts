import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ShapeMismatchError } from '../core/errors.js';
import { checkRank } from './common.js';
import { convLength, dilateKernelNd, fromChannelsLast, joinShape, knownChannels, splitShape, toChannelsLast } from './conv-utils.js';
import { convBase, convFields } from './conv-base.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';
import { initWeight, weightHooks } from './weight-options.js';

const fields = t.intersection([t.type({ filters: t.number }), t.partial({ groups: t.number }), convFields(['kernel', 'bias'])]);
export type ConvArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * A Keras `Conv1D` or `Conv3D` (Conv2D lives in conv2d.ts): kernel
 * (...kernel_size, in_channels / groups, filters), bias (filters). Dilation
 * goes through a dilated kernel (tfjs has no dilated conv3d gradient);
 * 'causal' padding (Conv1D only) pads `(kernel - 1) * dilation` steps on the left.
 */
function conv(rank: 1 | 3, className: 'Conv1D' | 'Conv3D', args: ConvArgs): Layer {
  const c = decodeLayerConfig(className, fields, args);
  // Keras's Conv1D defaults to channels_last whatever the image data format.
  const { where, kernelSize, strides, dilation, padding, format, activation, activityReg, useBias, groups, options, config } = convBase(className, c, rank, {
    weights: { kernel: 'glorot_uniform', bias: 'zeros' },
    causal: rank === 1,
    groups: true,
  });
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
