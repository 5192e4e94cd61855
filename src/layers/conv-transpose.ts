import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { intOrTuple, nullable, tupleOf } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { checkPositive, checkRank } from './common.js';
import { deconvLength, dilateKernelNd, fromChannelsLast, joinShape, knownChannels, padOrCrop, splitShape, toChannelsLast } from './conv-utils.js';
import { convBase, convFields } from './conv-base.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';
import { initWeight, weightHooks } from './weight-options.js';

const fields = t.intersection([t.type({ filters: t.number }), t.partial({ output_padding: nullable(intOrTuple), groups: t.number }), convFields(['kernel', 'bias'])]);
export type ConvTransposeArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * A transposed convolution of rank 3 as a forward one: the input spread by
 * the strides (zeros between samples), padded so that the output lands on
 * the grid TensorFlow derives from the output shape, convolved with the
 * flipped kernel (kernel (...k, filters, in) becomes (...k, in, filters)).
 * Differentiable wherever conv3d is. Channels last.
 */
function conv3dTransposeForward(x: ops.Tensor, kernel: ops.Tensor, outSpatial: number[], strides: number[], padding: 'valid' | 'same'): ops.Tensor {
  const k = kernel.shape.slice(0, 3);
  let z = x;
  const amounts: [number, number][] = [];
  for (let i = 0; i < 3; i++) {
    const axis = i + 1;
    const n = z.shape[axis];
    const s = strides[i];
    if (s > 1) {
      const shape = z.shape;
      const spread = [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)];
      const pad = spread.map((_, j): [number, number] => (j === axis + 1 ? [0, s - 1] : [0, 0]));
      z = ops.reshape(ops.pad(ops.reshape(z, spread), pad), [...shape.slice(0, axis), n * s, ...shape.slice(axis + 1)]);
    }
    const out = outSpatial[i];
    const padBefore = padding === 'same' ? Math.floor(Math.max((n - 1) * s + k[i] - out, 0) / 2) : 0;
    const before = k[i] - 1 - padBefore;
    amounts.push([before, out + k[i] - 1 - n * s - before]);
  }
  z = padOrCrop(z, [1, 2, 3], amounts);
  const flipped = ops.transpose(ops.reverse(kernel, [0, 1, 2]), [0, 1, 2, 4, 3]);
  return ops.conv3d(z as ops.Tensor5D, flipped as ops.Tensor5D, 1, 'valid', 'NDHWC');
}

/**
 * Keras `Conv2DTranspose` / `Conv3DTranspose`: kernel (...kernel_size,
 * filters, in_channels), bias (filters); output length Keras's
 * `deconv_output_length` (with `output_padding` when given). Conv2DTranspose
 * dilates through a dilated kernel; Conv3DTranspose ignores `dilation_rate`,
 * as tf.keras 2 does (it passes no dilation to conv3d_transpose).
 */
function convTranspose(rank: 2 | 3, className: 'Conv2DTranspose' | 'Conv3DTranspose', args: ConvTransposeArgs): Layer {
  const c = decodeLayerConfig(className, fields, args);
  const base = convBase(className, c, rank, { weights: { kernel: 'glorot_uniform', bias: 'zeros' }, groups: true });
  const { where, kernelSize, strides, dilation, format, activation, activityReg, useBias, options } = base;
  const padding = base.padding as 'valid' | 'same'; // no 'causal' without the causal option
  const outputPadding =
    c.output_padding === undefined || c.output_padding === null
      ? null
      : checkPositive(tupleOf(c.output_padding, rank, 'output_padding', where), 'output_padding', where, 0);
  if (outputPadding && outputPadding.some((p, i) => p >= strides[i]))
    throw new ConfigDecodeError('output_padding', `values below the strides (${strides.join(', ')})`, outputPadding, where);
  const effectiveDilation = rank === 2 ? dilation : [1, 1, 1];
  const config = { ...base.config, output_padding: outputPadding };

  const outSpatial = (spatial: (number | null)[]) =>
    spatial.map((d, i) => deconvLength(d, kernelSize[i], padding, outputPadding ? outputPadding[i] : null, strides[i], effectiveDilation[i]));
  const outShape = (s: Shape): Shape => {
    const { batch, spatial } = splitShape(s, rank, format, where);
    return joinShape(batch, outSpatial(spatial), c.filters, format);
  };
  return defineLayer(className, config, {
    init(key, inputShape) {
      const s = inputShape as Shape;
      const channels = knownChannels(s, rank, format, where);
      const params: Record<string, ops.Tensor> = { kernel: initWeight(options.kernel, key, 'kernel', [...kernelSize, c.filters, channels]) };
      if (useBias) params.bias = initWeight(options.bias, key, 'bias', [c.filters]);
      return { params, state: {}, outputShape: outShape(s) };
    },
    apply(params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, rank + 2, where);
      const outputs = ops.tidy(() => {
        const xl = toChannelsLast(x, format);
        const out = outSpatial(xl.shape.slice(1, rank + 1)) as number[];
        let y: ops.Tensor;
        if (rank === 2) {
          const kernel = dilateKernelNd(params.kernel, effectiveDilation) as ops.Tensor4D;
          y = ops.conv2dTranspose(xl as ops.Tensor4D, kernel, [xl.shape[0], out[0], out[1], c.filters], strides as [number, number], padding);
        } else y = conv3dTransposeForward(xl, params.kernel, out, strides, padding);
        if (useBias) y = ops.add(y, params.bias);
        return activation(fromChannelsLast(y, format));
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
    ...weightHooks(options, activityReg),
  });
}

/** Keras `Conv2DTranspose` (a "deconvolution"). */
export function Conv2DTranspose(args: ConvTransposeArgs): Layer {
  return convTranspose(2, 'Conv2DTranspose', args);
}

/** Keras `Conv3DTranspose`. */
export function Conv3DTranspose(args: ConvTransposeArgs): Layer {
  return convTranspose(3, 'Conv3DTranspose', args);
}
