/**
 * Convolution gradients written as forward convolutions, so that they run on
 * whatever fast Conv2D / DepthwiseConv2dNative a backend has (XNNPACK on
 * wasm). Backend-agnostic: they call tfjs-core ops only, on the active
 * backend, and must be called inside a tidy (kernels and gradient functions
 * are). Layout NHWC throughout.
 */
import * as tf from '@tensorflow/tfjs-core';

type Pair = [number, number];
export type ConvPad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/** Geometry of the forward op whose gradient is taken. */
export interface ConvGeometry {
  readonly strides: Pair;
  readonly dilations: Pair;
  readonly padTop: number;
  readonly padLeft: number;
}

export function pair(v: number | readonly number[] | undefined, fallback = 1): Pair {
  if (v === undefined) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  return [v[0] ?? fallback, v[1] ?? v[0] ?? fallback];
}

/** Padding and strides of a forward conv, as tfjs computes them. */
export function convGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  strides: number | readonly number[],
  dilations: number | readonly number[] | undefined,
  pad: ConvPad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): ConvGeometry {
  const s = pair(strides);
  const d = pair(dilations);
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    s,
    d,
    pad,
    dimRoundingMode,
    depthwise,
  );
  return { strides: s, dilations: d, padTop: info.padInfo.top, padLeft: info.padInfo.left };
}

/**
 * Pads (positive) or crops (negative) the two spatial axes of an NHWC tensor:
 * `before`/`after` rows on axis 1, then columns on axis 2.
 */
function padOrCrop(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number, value = 0): tf.Tensor4D {
  const padding: [number, number][] = [
    [0, 0],
    [Math.max(top, 0), Math.max(bottom, 0)],
    [Math.max(left, 0), Math.max(right, 0)],
    [0, 0],
  ];
  let r = padding.some(([a, b]) => a > 0 || b > 0) ? tf.pad(t, padding, value) : t;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = r.shape;
    const t0 = Math.max(-top, 0);
    const l0 = Math.max(-left, 0);
    r = tf.slice(r, [0, t0, l0, 0], [n, h - t0 - Math.max(-bottom, 0), w - l0 - Math.max(-right, 0), c]);
  }
  return r;
}

/**
 * Strided windows of a padded input, without StridedSlice (which is ~50x
 * slower than Slice on wasm): `tap(oh, ow)[n,p,q,c] = xpad[n, oh + p*sh, ow + q*sw, c]`
 * for offsets up to maxOffH / maxOffW, where xpad is x padded by padTop /
 * padLeft with `value`. Rows are reshaped so that every tap is a plain slice.
 */
function tapper(
  x: tf.Tensor4D,
  padTop: number,
  padLeft: number,
  maxOffH: number,
  maxOffW: number,
  ho: number,
  wo: number,
  [sh, sw]: Pair,
  value: number,
): (oh: number, ow: number) => tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const hq = Math.floor((maxOffH + (ho - 1) * sh) / sh) + 1;
  const wq = Math.floor((maxOffW + (wo - 1) * sw) / sw) + 1;
  const xp = padOrCrop(x, padTop, hq * sh - h - padTop, padLeft, wq * sw - w - padLeft, value);
  const byRow = tf.reshape(xp, [n, hq, sh, wq * sw * c]);
  const rows = new Map<number, tf.Tensor>();
  const rowsAt = (oh: number): tf.Tensor => {
    let r = rows.get(oh);
    if (!r) {
      r = tf.reshape(tf.slice(byRow, [0, Math.floor(oh / sh), oh % sh, 0], [n, ho, 1, wq * sw * c]), [n * ho, wq, sw * c]);
      rows.set(oh, r);
    }
    return r;
  };
  return (oh, ow) => tf.reshape(tf.slice(rowsAt(oh), [0, Math.floor(ow / sw), (ow % sw) * c], [n * ho, wo, c]), [n, ho, wo, c]);
}

/** Inserts stride-1 zeros after every row / column: [N,H,W,C] -> [N,H*sh,W*sw,C]. */
function spreadByStrides(dy: tf.Tensor4D, [sh, sw]: Pair): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape;
  let t: tf.Tensor = dy;
  if (sw > 1) t = tf.pad(tf.reshape(t, [n * h, w, 1, c]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]);
  if (sh > 1) t = tf.pad(tf.reshape(t, [n, h, 1, w * sw * c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0]]);
  return tf.reshape(t, [n, h * sh, w * sw, c]);
}

/**
 * dL/dfilter of conv2d(x, filter): a forward conv of the input (channels as
 * batch, batch as channels) with dy as the filter, the forward op's strides
 * becoming dilations and its dilations strides.
 */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: readonly number[], g: ConvGeometry): tf.Tensor4D {
  const [kh, kw] = filterShape as [number, number, number, number];
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  const [, h, w] = x.shape;
  const [, ho, wo] = dy.shape;
  const needH = (kh - 1) * dh + (ho - 1) * sh + 1;
  const needW = (kw - 1) * dw + (wo - 1) * sw + 1;
  const xp = padOrCrop(x, g.padTop, needH - h - g.padTop, g.padLeft, needW - w - g.padLeft);
  const xt = tf.transpose(xp, [3, 1, 2, 0]);
  const f = tf.transpose(dy, [1, 2, 0, 3]);
  const r = tf.conv2d(xt, f, [dh, dw], 'valid', 'NHWC', [sh, sw]);
  return tf.transpose(r, [1, 2, 0, 3]);
}

/** Zero-spread dy, padded so that a stride-1 conv with the flipped kernel lands on x's grid. */
function spreadAndPad(dy: tf.Tensor4D, inputShape: readonly number[], kh: number, kw: number, g: ConvGeometry): tf.Tensor4D {
  const [, h, w] = inputShape as [number, number, number, number];
  const spread = spreadByStrides(dy, g.strides);
  const ekh = (kh - 1) * g.dilations[0] + 1;
  const ekw = (kw - 1) * g.dilations[1] + 1;
  const top = ekh - 1 - g.padTop;
  const left = ekw - 1 - g.padLeft;
  const bottom = h - spread.shape[1] - top + ekh - 1;
  const right = w - spread.shape[2] - left + ekw - 1;
  return padOrCrop(spread, top, bottom, left, right);
}

/** dL/dx of conv2d(x, filter): dy, spread by the strides, convolved with the flipped, channel-swapped filter. */
export function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: readonly number[], g: ConvGeometry): tf.Tensor4D {
  const [kh, kw] = filter.shape;
  const dyp = spreadAndPad(dy, inputShape, kh, kw, g);
  const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
  return tf.conv2d(dyp, flipped, 1, 'valid', 'NHWC', g.dilations);
}

/** dL/dx of depthwiseConv2d(x, filter [kh,kw,C,M]). */
export function depthwiseInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: readonly number[], g: ConvGeometry): tf.Tensor4D {
  const [kh, kw, c, m] = filter.shape;
  const dyp = spreadAndPad(dy, inputShape, kh, kw, g);
  const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]) as tf.Tensor4D;
  const r = tf.depthwiseConv2d(dyp, flipped, 1, 'valid', 'NHWC', g.dilations);
  if (m === 1) return r;
  const [n, h, w] = r.shape;
  return tf.sum(tf.reshape(r, [n, h, w, c, m]), 4) as tf.Tensor4D;
}

/**
 * dL/dfilter of depthwiseConv2d(x, filter [kh,kw,C,M]): one strided slice of
 * the padded input per filter tap, multiplied by dy and summed over batch
 * and positions.
 */
export function depthwiseFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: readonly number[], g: ConvGeometry): tf.Tensor4D {
  const [kh, kw, c, m] = filterShape as [number, number, number, number];
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  const [n] = x.shape;
  const [, ho, wo] = dy.shape;
  const tap = tapper(x, g.padTop, g.padLeft, (kh - 1) * dh, (kw - 1) * dw, ho, wo, [sh, sw], 0);
  const dyr = m === 1 ? dy : tf.reshape(dy, [n, ho, wo, c, m]);
  const taps: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const xs = tap(i * dh, j * dw);
      const prod = m === 1 ? tf.mul(xs, dyr) : tf.mul(tf.expandDims(xs, 4), dyr);
      taps.push(tf.sum(prod, [0, 1, 2]));
    }
  return tf.reshape(tf.stack(taps), [kh, kw, c, m]);
}
