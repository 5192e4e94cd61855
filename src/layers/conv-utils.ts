/**
 * Helpers shared by the convolution, pooling and reshaping layers of any
 * spatial rank (1D, 2D, 3D): data formats of any rank, Keras's padding
 * and output-length rules, dilated kernels, and repeat / crop / pad along
 * axes. Everything computes through src/ops.
 */
import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { tupleOf } from '../core/config.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { checkPositive, type DataFormat } from './common.js';
import type { Shape } from './layer.js';

/** Keras's padding for convolutions: 'valid', 'same', and 'causal' where the layer allows it (1D). */
export type ConvPadding = 'valid' | 'same' | 'causal';

export function convPaddingOf(value: string | undefined, where: string, allowCausal: boolean): ConvPadding {
  const v = (value ?? 'valid').toLowerCase();
  const allowed = allowCausal ? ['valid', 'same', 'causal'] : ['valid', 'same'];
  if (!allowed.includes(v)) throw new ConfigDecodeError('padding', allowed.map((a) => `'${a}'`).join(' or '), value, where);
  return v as ConvPadding;
}

/** Keras's `conv_output_length`, with 'causal' (same length as 'same') and 'full'. */
export function convLength(length: number | null, filter: number, padding: ConvPadding | 'full', stride: number, dilation = 1): number | null {
  if (length === null) return null;
  const dilated = (filter - 1) * dilation + 1;
  const out = padding === 'same' || padding === 'causal' ? length : padding === 'valid' ? length - dilated + 1 : length + dilated - 1;
  return Math.floor((out + stride - 1) / stride);
}

/** Keras's `deconv_output_length` (output_padding null: the length is inferred). */
export function deconvLength(length: number | null, filter: number, padding: 'valid' | 'same', outputPadding: number | null, stride: number, dilation = 1): number | null {
  if (length === null) return null;
  const k = filter + (filter - 1) * (dilation - 1);
  if (outputPadding === null) return padding === 'valid' ? length * stride + Math.max(k - stride, 0) : length * stride;
  const pad = padding === 'same' ? Math.floor(k / 2) : 0;
  return (length - 1) * stride + k - 2 * pad + outputPadding;
}

/** Integers (>= min) for an "int or tuple of n ints" field. */
export function intTuple(value: number | number[] | undefined, fallback: number | number[], n: number, field: string, where: string, min = 1): number[] {
  return checkPositive(tupleOf(value ?? fallback, n, field, where), field, where, min);
}

/** The spatial dims and channels of a rank-(n+2) shape in the given data format. */
export function splitShape(shape: Shape, n: number, format: DataFormat, where: string): { batch: number | null; spatial: (number | null)[]; channels: number | null } {
  if (shape.length !== n + 2) throw new ShapeMismatchError(where, `a rank-${n + 2} input (batch, ${n} spatial dims, channels) in ${format}`, shape);
  return format === 'channels_last'
    ? { batch: shape[0], spatial: shape.slice(1, n + 1), channels: shape[n + 1] }
    : { batch: shape[0], spatial: shape.slice(2), channels: shape[1] };
}

/** A rank-(n+2) shape from batch, spatial dims and channels in the given data format. */
export function joinShape(batch: number | null, spatial: (number | null)[], channels: number | null, format: DataFormat): Shape {
  return format === 'channels_last' ? [batch, ...spatial, channels] : [batch, channels, ...spatial];
}

/** Channels-first to channels-last for any rank (a no-op for channels_last). */
export function toChannelsLast(x: ops.Tensor, format: DataFormat): ops.Tensor {
  if (format === 'channels_last') return x;
  const r = x.rank;
  return ops.transpose(x, [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1]);
}

/** Channels-last back to the layer's data format, for any rank. */
export function fromChannelsLast(x: ops.Tensor, format: DataFormat): ops.Tensor {
  if (format === 'channels_last') return x;
  const r = x.rank;
  return ops.transpose(x, [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)]);
}

/** The channel count of a shape, which weight shapes depend on. */
export function knownChannels(shape: Shape, n: number, format: DataFormat, where: string): number {
  const { channels } = splitShape(shape, n, format, where);
  if (channels === null) throw new ShapeMismatchError(where, 'an input whose channel dimension is known', shape);
  return channels;
}

/**
 * The kernel of a dilated convolution: `dilation - 1` zeros between
 * neighbouring taps on each of the first `dilation.length` axes. A
 * convolution with it equals the dilated one, and it differentiates
 * wherever the plain convolution does.
 */
export function dilateKernelNd(kernel: ops.Tensor, dilation: readonly number[]): ops.Tensor {
  if (dilation.every((d) => d === 1)) return kernel;
  return ops.tidy(() => {
    let k = kernel;
    dilation.forEach((d, axis) => {
      if (d === 1) return;
      const shape = k.shape;
      const n = shape[axis];
      const spread = [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)];
      const padding = spread.map((_, i): [number, number] => (i === axis + 1 ? [0, d - 1] : [0, 0]));
      k = ops.reshape(ops.pad(ops.reshape(k, spread), padding), [...shape.slice(0, axis), n * d, ...shape.slice(axis + 1)]);
      const size = [...shape];
      size[axis] = (n - 1) * d + 1;
      k = ops.slice(k, shape.map(() => 0), size);
    });
    return k;
  });
}

/** Repeats every element `times` times along `axis` (Keras's `repeat_elements`). */
export function repeatElements(x: ops.Tensor, axis: number, times: number): ops.Tensor {
  if (times === 1) return x;
  const shape = x.shape;
  // As (before, n, 1, after), tiled on the new axis: tfjs differentiates tile up to rank 4.
  const before = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const after = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const folded = ops.reshape(x, [before, shape[axis], 1, after]);
  const out = [...shape];
  out[axis] = shape[axis] * times;
  return ops.reshape(ops.tile(folded, [1, 1, times, 1]), out);
}

/**
 * Pads (positive amounts) or crops (negative amounts) the given axes:
 * `amounts[i] = [before, after]` applies to `axes[i]`.
 */
export function padOrCrop(x: ops.Tensor, axes: readonly number[], amounts: readonly (readonly [number, number])[]): ops.Tensor {
  const padding = x.shape.map((): [number, number] => [0, 0]);
  axes.forEach((a, i) => (padding[a] = [Math.max(amounts[i][0], 0), Math.max(amounts[i][1], 0)]));
  let y = padding.some(([b, e]) => b > 0 || e > 0) ? ops.pad(x, padding) : x;
  if (amounts.some(([b, e]) => b < 0 || e < 0)) {
    const begin = y.shape.map(() => 0);
    const size = [...y.shape];
    axes.forEach((a, i) => {
      const b = Math.max(-amounts[i][0], 0);
      const e = Math.max(-amounts[i][1], 0);
      begin[a] = b;
      size[a] = y.shape[a] - b - e;
    });
    y = ops.slice(y, begin, size);
  }
  return y;
}

/** A pair per axis from Keras's "int, tuple of n ints, or tuple of n pairs" (ZeroPadding2D, Cropping3D ...). */
export const pairsCodec = t.union([t.number, t.array(t.union([t.number, t.array(t.number)]))]);

export function pairsOf(value: t.TypeOf<typeof pairsCodec> | undefined, fallback: number | number[][], n: number, field: string, where: string): [number, number][] {
  const v = value ?? fallback;
  const bad = () => new ConfigDecodeError(field, `an integer, ${n} integers, or ${n} pairs of integers >= 0`, value, where);
  let pairs: [number, number][];
  if (typeof v === 'number') pairs = Array.from({ length: n }, (): [number, number] => [v, v]);
  else {
    if (v.length !== n) throw bad();
    pairs = v.map((e): [number, number] => {
      if (typeof e === 'number') return [e, e];
      if (e.length !== 2) throw bad();
      return [e[0], e[1]];
    });
  }
  if (pairs.some((p) => p.some((d) => !Number.isInteger(d) || d < 0))) throw bad();
  return pairs;
}
