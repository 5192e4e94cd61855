/**
 * Conv3DBackpropInputV2 and Conv3DBackpropFilterV2 for the wasm backend,
 * written as forward Conv3D calls (tfjs-core ops on the active backend). The
 * stock wasm kernels of tfjs 4.22 return wrong values: the input gradient in
 * every shape tried, the filter gradient whenever a stride is above 1
 * (checked against the cpu backend in test/core/conv3d-backprop.test.ts).
 * Layout NDHWC, dilations 1 (tfjs's conv3d gradient allows no other).
 */
import * as tf from '@tensorflow/tfjs-core';
import { asTensor } from './tensor-view.js';

type Triple = [number, number, number];
type Pad = 'same' | 'valid' | number;
type Attrs = Record<string, unknown>;

function triple(v: unknown): Triple {
  if (typeof v === 'number') return [v, v, v];
  const a = v as number[];
  return [a[0], a[1] ?? a[0], a[2] ?? a[0]];
}

/** Padding before each spatial axis of the forward conv, as tfjs computes it. */
function padBefore(xShape: readonly number[], filterShape: readonly number[], strides: Triple, pad: Pad): Triple {
  const info = tf.backend_util.computeConv3DInfo(xShape as never, filterShape as never, strides, 1, pad);
  return [info.padInfo.front, info.padInfo.top, info.padInfo.left];
}

/** Pads (positive) or crops (negative) spatial axes 1..3 of an NDHWC tensor. */
function padOrCrop5(t: tf.Tensor, amounts: [number, number][]): tf.Tensor {
  const padding: [number, number][] = [[0, 0], ...amounts.map(([b, a]): [number, number] => [Math.max(b, 0), Math.max(a, 0)]), [0, 0]];
  let r = padding.some(([b, a]) => b > 0 || a > 0) ? tf.pad(t, padding) : t;
  if (amounts.some(([b, a]) => b < 0 || a < 0)) {
    const begin = [0, ...amounts.map(([b]) => Math.max(-b, 0)), 0];
    const size = r.shape.map((d, i) => (i === 0 || i === 4 ? d : d - Math.max(-amounts[i - 1][0], 0) - Math.max(-amounts[i - 1][1], 0)));
    r = tf.slice(r, begin, size);
  }
  return r;
}

/** Inserts `s - 1` zeros after every element of axes first..first+2: length n -> n * s. */
function spread(t: tf.Tensor, strides: Triple, first = 1): tf.Tensor {
  let r = t;
  strides.forEach((s, i) => {
    if (s === 1) return;
    const axis = i + first;
    const shape = r.shape;
    const expanded = [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)];
    const pad = expanded.map((_, j): [number, number] => (j === axis + 1 ? [0, s - 1] : [0, 0]));
    r = tf.reshape(tf.pad(tf.reshape(r, expanded), pad), [...shape.slice(0, axis), shape[axis] * s, ...shape.slice(axis + 1)]);
  });
  return r;
}

/** dL/dx of conv3d(x, filter (kd, kh, kw, C, F)): dy spread and padded, convolved with the flipped, channel-swapped filter. */
export function conv3dInputGrad(dy: tf.Tensor5D, filter: tf.Tensor5D, inputShape: readonly number[], strides: Triple, pad: Pad): tf.Tensor5D {
  const k = filter.shape.slice(0, 3);
  const pb = padBefore(inputShape, filter.shape, strides, pad);
  const z = spread(dy, strides);
  const amounts = k.map((ki, i): [number, number] => {
    const before = ki - 1 - pb[i];
    return [before, inputShape[i + 1] + ki - 1 - z.shape[i + 1] - before];
  });
  const flipped = tf.transpose(tf.reverse(filter, [0, 1, 2]), [0, 1, 2, 4, 3]) as tf.Tensor5D;
  return tf.conv3d(padOrCrop5(z, amounts) as tf.Tensor5D, flipped, 1, 'valid');
}

/**
 * dL/dfilter of conv3d(x, filter): the input (channels as batch) convolved
 * with dy (spread by the strides, batch as input channels) as the filter.
 */
export function conv3dFilterGrad(x: tf.Tensor5D, dy: tf.Tensor5D, filterShape: readonly number[], strides: Triple, pad: Pad): tf.Tensor5D {
  const k = filterShape.slice(0, 3);
  const pb = padBefore(x.shape, filterShape, strides, pad);
  const out = dy.shape.slice(1, 4);
  const amounts = k.map((ki, i): [number, number] => {
    const need = ki - 1 + (out[i] - 1) * strides[i] + 1;
    return [pb[i], need - x.shape[i + 1] - pb[i]];
  });
  const xt = tf.transpose(padOrCrop5(x, amounts), [4, 1, 2, 3, 0]) as tf.Tensor5D; // (C, D, H, W, N)
  // dy as a filter (od, oh, ow, N, F), its taps `stride` apart.
  let f = spread(tf.transpose(dy, [1, 2, 3, 0, 4]), strides, 0);
  f = tf.slice(f, [0, 0, 0, 0, 0], [...out.map((o, i) => (o as number - 1) * strides[i] + 1), f.shape[3] as number, f.shape[4] as number]);
  const r = tf.conv3d(xt, f as tf.Tensor5D, 1, 'valid'); // (C, kd, kh, kw, F)
  return tf.transpose(r, [1, 2, 3, 0, 4]) as tf.Tensor5D;
}


const backpropInput: tf.KernelFunc = ({ inputs, attrs }) => {
  const a = (attrs ?? {}) as Attrs;
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  return tf.tidy(() => conv3dInputGrad(asTensor(dy) as tf.Tensor5D, asTensor(filter) as tf.Tensor5D, a.inputShape as number[], triple(a.strides), a.pad as Pad));
};

const backpropFilter: tf.KernelFunc = ({ inputs, attrs }) => {
  const a = (attrs ?? {}) as Attrs;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  return tf.tidy(() => conv3dFilterGrad(asTensor(x) as tf.Tensor5D, asTensor(dy) as tf.Tensor5D, a.filterShape as number[], triple(a.strides), a.pad as Pad));
};

let registered = false;

/** Replaces the stock wasm Conv3DBackpropInputV2 / Conv3DBackpropFilterV2. Idempotent. */
export function registerConv3dBackpropKernels(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, kernelFunc] of [
    ['Conv3DBackpropInputV2', backpropInput],
    ['Conv3DBackpropFilterV2', backpropFilter],
  ] as const) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}
