/**
 * Gradient fixes on top of tfjs-core's table (core-gradients.ts), for every
 * backend:
 * - Conv2D: dilated convolutions (tfjs refuses dilation > 1 in gradients);
 * - DepthwiseConv2dNative: the same;
 * - BatchMatMul: operands with broadcast batch dimensions (tfjs returns a
 *   gradient of the broadcast shape, which the engine rejects);
 * - Relu: masked by the output (y > 0 exactly where x > 0, NaN for NaN), not
 *   the input, as TensorFlow's ReluGrad: the compiled step then keeps one
 *   layout of a convolution's activation instead of two (a transpose less).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  conv2dFilterGrad,
  conv2dInputGrad,
  convGeometry,
  depthwiseFilterGrad,
  depthwiseInputGrad,
  pair,
  type ConvPad,
} from './kernels/conv-backprop.js';

type Attrs = Record<string, unknown>;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

let gradientsFixed = false;

/** Replaces the Conv2D, DepthwiseConv2dNative, BatchMatMul and Relu gradients. Idempotent. */
export function registerGradientFixes(): void {
  if (gradientsFixed) return;
  gradientsFixed = true;
  tf.registerGradient({ kernelName: 'Conv2D', inputsToSave: ['x', 'filter'], gradFunc: conv2dGrad });
  tf.registerGradient({ kernelName: 'DepthwiseConv2dNative', inputsToSave: ['x', 'filter'], gradFunc: depthwiseGrad });
  tf.registerGradient({ kernelName: 'BatchMatMul', inputsToSave: ['a', 'b'], gradFunc: batchMatMulGrad });
  tf.registerGradient({ kernelName: 'Relu', outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy as tf.Tensor, tf.cast(tf.step(y), 'float32')) }) });
}

const isOne = (p: [number, number]): boolean => p[0] === 1 && p[1] === 1;

function conv2dGrad(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: Attrs): Record<string, () => tf.Tensor> {
  const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
  const dy4 = dy as tf.Tensor4D;
  const { strides, pad, dataFormat, dimRoundingMode } = attrs as {
    strides: number | [number, number];
    pad: ConvPad;
    dataFormat?: 'NHWC' | 'NCHW';
    dimRoundingMode?: Rounding;
  };
  const dilations = pair(attrs.dilations as number | [number, number] | undefined);
  if (isOne(dilations)) {
    // The backend's own kernels (rxkeras's on wasm).
    const common = { strides, pad, dataFormat: dataFormat ?? 'NHWC', dimRoundingMode } as unknown as tf.NamedAttrMap;
    return {
      x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dy4, filter }, { ...common, inputShape: x.shape }) as tf.Tensor,
      filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dy4 }, { ...common, filterShape: filter.shape }) as tf.Tensor,
    };
  }
  if (dataFormat === 'NCHW') throw new Error(`gradient of conv2d: dilated convolutions need dataFormat 'NHWC', got 'NCHW'`);
  const g = convGeometry(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, false);
  return {
    x: () => conv2dInputGrad(dy4, filter, x.shape, g),
    filter: () => conv2dFilterGrad(x, dy4, filter.shape, g),
  };
}

function depthwiseGrad(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: Attrs): Record<string, () => tf.Tensor> {
  const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
  const dy4 = dy as tf.Tensor4D;
  const { strides, pad, dimRoundingMode } = attrs as { strides: number | [number, number]; pad: ConvPad; dimRoundingMode?: Rounding };
  const dilations = pair(attrs.dilations as number | [number, number] | undefined);
  if (isOne(dilations)) {
    const common = { strides, pad, dilations, dimRoundingMode } as unknown as tf.NamedAttrMap;
    return {
      x: () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dy4, filter }, { ...common, inputShape: x.shape }) as tf.Tensor,
      filter: () =>
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dy4 }, { ...common, filterShape: filter.shape }) as tf.Tensor,
    };
  }
  const g = convGeometry(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, true);
  return {
    x: () => depthwiseInputGrad(dy4, filter, x.shape, g),
    filter: () => depthwiseFilterGrad(x, dy4, filter.shape, g),
  };
}

/** Sums a gradient computed at the broadcast shape back to its operand's shape. */
function unbroadcast(grad: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(grad.shape, shape)) return grad;
  const axes = tf.backend_util.getReductionAxes(shape, grad.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(grad, axes) : grad, shape);
}

function batchMatMulGrad(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: Attrs): Record<string, () => tf.Tensor> {
  const [a, b] = saved as [tf.Tensor, tf.Tensor];
  const d = dy as tf.Tensor;
  const tA = Boolean(attrs.transposeA);
  const tB = Boolean(attrs.transposeB);
  let da: () => tf.Tensor;
  let db: () => tf.Tensor;
  if (!tA && !tB) {
    da = () => tf.matMul(d, b, false, true);
    db = () => tf.matMul(a, d, true, false);
  } else if (!tA && tB) {
    da = () => tf.matMul(d, b, false, false);
    db = () => tf.matMul(d, a, true, false);
  } else if (tA && !tB) {
    da = () => tf.matMul(b, d, false, true);
    db = () => tf.matMul(a, d, false, false);
  } else {
    da = () => tf.matMul(b, d, true, true);
    db = () => tf.matMul(d, a, true, true);
  }
  return { a: () => unbroadcast(da(), a.shape), b: () => unbroadcast(db(), b.shape) };
}
