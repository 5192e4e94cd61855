import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ShapeMismatchError } from '../core/errors.js';
import { fusedActivation } from '../activations/index.js';
import { checkRank, convOutputLength, fromNHWC, shape2d, spatial2d, toNHWC } from './common.js';
import { convBase, convFields } from './conv-base.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';
import { initWeight, weightHooks } from './weight-options.js';

const fields = t.intersection([t.type({ filters: t.number }), t.partial({ groups: t.number }), convFields(['kernel', 'bias'])]);
export type Conv2DArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `Conv2D`: a 2D convolution (cross-correlation) with a kernel of shape
 * (kernel_h, kernel_w, in_channels / groups, filters), plus bias, then the
 * activation. channels_first inputs are transposed to channels_last around
 * the convolution.
 */
export function Conv2D(args: Conv2DArgs): Layer {
  const c = decodeLayerConfig('Conv2D', fields, args);
  const base = convBase('Conv2D', c, 2, { weights: { kernel: 'glorot_uniform', bias: 'zeros' }, groups: true });
  const { where, format, activation, activityReg, useBias, groups, options, config } = base;
  const padding = base.padding as 'valid' | 'same'; // no 'causal' without the causal option
  const [kernelSize, strides, dilation] = [base.kernelSize, base.strides, base.dilation] as [number, number][];
  const fused = fusedActivation(c.activation);
  const outShape = (s: Shape): Shape => {
    const { batch, rows, cols } = spatial2d(s, format, where);
    return shape2d(
      batch,
      convOutputLength(rows, kernelSize[0], padding, strides[0], dilation[0]),
      convOutputLength(cols, kernelSize[1], padding, strides[1], dilation[1]),
      c.filters,
      format,
    );
  };
  // tfjs has no gradient for dilated conv2d, so a dilated kernel (zeros between taps) stands in for dilation_rate.
  const dilated = dilation.some((d) => d !== 1);
  const conv = (x: ops.Tensor4D, kernel: ops.Tensor4D) =>
    ops.conv2d(x, dilated ? dilateKernel(kernel, dilation) : kernel, strides, padding, 'NHWC');
  return defineLayer('Conv2D', config, {
    init(key, inputShape) {
      const s = inputShape as Shape;
      const { channels } = spatial2d(s, format, where);
      if (channels === null) throw new ShapeMismatchError(where, 'an input whose channel dimension is known', s);
      if (channels % groups !== 0) throw new ShapeMismatchError(`${where}: channels must be divisible by groups (${groups})`, 'a multiple of groups', s);
      const params: Record<string, ops.Tensor> = {
        kernel: initWeight(options.kernel, key, 'kernel', [kernelSize[0], kernelSize[1], channels / groups, c.filters]),
      };
      if (useBias) params.bias = initWeight(options.bias, key, 'bias', [c.filters]);
      return { params, state: {}, outputShape: outShape(s) };
    },
    apply(params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, 4, where);
      const outputs = ops.tidy(() => {
        const nhwc = toNHWC(x, format);
        const kernel = params.kernel as ops.Tensor4D;
        let y: ops.Tensor;
        if (groups === 1 && fused) {
          // One fused kernel (conv + bias + activation), as tfjs-layers does.
          const filter = (dilated ? dilateKernel(kernel, dilation) : kernel) as ops.Tensor4D;
          const bias = useBias ? params.bias : undefined;
          return fromNHWC(ops.fused.conv2d({ x: nhwc, filter, strides, pad: padding, dataFormat: 'NHWC', bias, activation: fused }), format);
        }
        if (groups === 1) y = conv(nhwc, kernel);
        else {
          const xs = ops.split(nhwc, groups, 3) as ops.Tensor4D[];
          const ks = ops.split(kernel, groups, 3) as ops.Tensor4D[];
          y = ops.concat(xs.map((xi, i) => conv(xi, ks[i])), 3);
        }
        if (useBias) y = ops.add(y, params.bias);
        return activation(fromNHWC(y, format));
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
    ...weightHooks(options, activityReg),
  });
}

/** The kernel of a dilated convolution: `dilation - 1` zeros between neighbouring taps on each spatial axis. */
export function dilateKernel(kernel: ops.Tensor4D, dilation: [number, number]): ops.Tensor4D {
  return ops.tidy(() => {
    let k: ops.Tensor = kernel;
    for (const axis of [0, 1]) {
      const d = dilation[axis];
      if (d === 1) continue;
      const shape = k.shape;
      const n = shape[axis];
      const spread = [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)];
      const padding = spread.map((_, i): [number, number] => (i === axis + 1 ? [0, d - 1] : [0, 0]));
      k = ops.reshape(ops.pad(ops.reshape(k, spread), padding), [...shape.slice(0, axis), n * d, ...shape.slice(axis + 1)]);
      const size = [...shape];
      size[axis] = (n - 1) * d + 1;
      k = ops.slice(k, [0, 0, 0, 0], size);
    }
    return k as ops.Tensor4D;
  });
}
