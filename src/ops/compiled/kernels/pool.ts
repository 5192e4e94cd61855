import * as tf from '@tensorflow/tfjs-core';
import { attr, CUSTOM_DOMAIN, spec, type KernelSpec, type LowerContext } from './kernel.js';

type Info = tf.backend_util.Conv2DInfo;

function poolInfo(xShape: number[], a: Record<string, any>): Info {
  return tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
}

const transpose = (ctx: LowerContext, x: string, perm: number[], out?: string[]) => ctx.node('Transpose', [x], [attr.ints('perm', perm)], out)[0];

const window = (c: Info) => [
  attr.ints('kernel_shape', [c.filterHeight, c.filterWidth]),
  attr.ints('strides', [c.strideHeight, c.strideWidth]),
  attr.ints('pads', [c.padInfo.top, c.padInfo.left, c.padInfo.bottom, c.padInfo.right]),
];

export const poolKernels: KernelSpec[] = [
  spec('MaxPool', ['x'], ([x], a) => ({ shape: [...poolInfo(x.shape, a).outShape], dtype: x.dtype }), (ctx, a) => {
    const c = poolInfo(ctx.inputMetas[0].shape, a);
    const y = ctx.node('MaxPool', [transpose(ctx, ctx.inputs[0], [0, 3, 1, 2])], window(c))[0];
    transpose(ctx, y, [0, 2, 3, 1], ctx.outputs);
  }),
  spec('AvgPool', ['x'], ([x], a) => ({ shape: [...poolInfo(x.shape, a).outShape], dtype: x.dtype }), (ctx, a) => {
    const c = poolInfo(ctx.inputMetas[0].shape, a);
    const y = ctx.node('AveragePool', [transpose(ctx, ctx.inputs[0], [0, 3, 1, 2])], [...window(c), attr.int('count_include_pad', 0)])[0];
    transpose(ctx, y, [0, 2, 3, 1], ctx.outputs);
  }),
  spec('MaxPoolGrad', ['dy', 'input', 'output'], ([, x]) => ({ shape: [...x.shape], dtype: x.dtype }), (ctx, a) => {
    const c = poolInfo(ctx.inputMetas[1].shape, a);
    const p = c.padInfo;
    if (ctx.customOps) return nativeGrad(ctx, c, Boolean(a.positive));
    const tiled = c.strideHeight === c.filterHeight && c.strideWidth === c.filterWidth && !p.top && !p.left && !p.bottom && !p.right;
    if (tiled) windowsGrad(ctx, c);
    else scatterGrad(ctx, a);
  }),
];

/**
 * Any windows, as one kernel of rxkeras's addon: several times faster than
 * the standard operators below. It reads x in NCHW, as the forward MaxPool
 * does, so that ONNX Runtime cancels the transposes between the convolution
 * before and both; `positive` (set by fuse.ts) folds in a ReLU's mask. Its
 * second output, dx summed per channel, is the call's second output where
 * fuse.ts gave it one (a bias gradient), unread otherwise.
 */
function nativeGrad(ctx: LowerContext, c: Info, positive: boolean): void {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo: p } = c;
  const ints = Object.entries({ kh, kw, sh, sw, pt: p.top, pl: p.left, positive: Number(positive) }).map(([k, v]) => attr.int(k, v));
  const inputs = [ctx.inputs[0], transpose(ctx, ctx.inputs[1], [0, 3, 1, 2])];
  if (ctx.outputs.length === 2) return void ctx.node('MaxPoolGrad', inputs, ints, ctx.outputs, CUSTOM_DOMAIN);
  ctx.node('Identity', [ctx.node('MaxPoolGrad', inputs, ints, 2, CUSTOM_DOMAIN)[0]], [], ctx.outputs);
}

/**
 * Non-overlapping windows, in NHWC without transposes: tap (i, j) of every
 * window is a strided slice of x; the first tap (row-major, as tfjs and
 * TensorFlow pick) equal to the window's maximum gets dy; the taps are
 * interleaved back by concatenation along unit axes.
 */
function windowsGrad(ctx: LowerContext, c: Info): void {
  const [n, h, w, ch] = ctx.inputMetas[1].shape;
  const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = c;
  const [dy, x, y] = ctx.inputs;
  const zero = ctx.scalar(0, 'float32');
  let taken: string | undefined;
  const rows: string[] = [];
  for (let i = 0; i < kh; i++) {
    const cols: string[] = [];
    for (let j = 0; j < kw; j++) {
      const tap = ctx.node('Slice', [x, ctx.int64([i, j]), ctx.int64([i + (oh - 1) * kh + 1, j + (ow - 1) * kw + 1]), ctx.int64([1, 2]), ctx.int64([kh, kw])])[0];
      let hit = ctx.node('Equal', [tap, y])[0];
      if (taken) hit = ctx.node('And', [hit, ctx.node('Not', [taken])[0]])[0];
      taken = taken ? ctx.node('Or', [taken, hit])[0] : hit;
      cols.push(ctx.node('Unsqueeze', [ctx.node('Where', [hit, dy, zero])[0], ctx.int64([2, 4])])[0]);
    }
    rows.push(cols.length === 1 ? cols[0] : ctx.node('Concat', cols, [attr.int('axis', 4)])[0]);
  }
  const all = rows.length === 1 ? rows[0] : ctx.node('Concat', rows, [attr.int('axis', 2)])[0];
  const dx = ctx.node('Reshape', [all, ctx.int64([n, oh * kh, ow * kw, ch])])[0];
  if (oh * kh === h && ow * kw === w) ctx.node('Identity', [dx], [], ctx.outputs);
  else ctx.node('Pad', [dx, ctx.int64([0, 0, 0, 0, 0, h - oh * kh, w - ow * kw, 0])], [attr.str('mode', 'constant')], ctx.outputs);
}

/** Overlapping or padded windows: MaxPool's flat argmax indices, dy scatter-added there. */
function scatterGrad(ctx: LowerContext, a: Record<string, any>): void {
  const [n, h, w, ch] = ctx.inputMetas[1].shape;
  const c = poolInfo(ctx.inputMetas[1].shape, a);
  const x = transpose(ctx, ctx.inputs[1], [0, 3, 1, 2]);
  const [, indices] = ctx.node('MaxPool', [x], window(c), 2);
  const dy = transpose(ctx, ctx.inputs[0], [0, 3, 1, 2]);
  const flat = (v: string) => ctx.node('Reshape', [v, ctx.int64([-1])])[0];
  const zeros = ctx.scalar(0, 'float32', [n * ch * h * w]);
  const dx = ctx.node('ScatterElements', [zeros, flat(indices), flat(dy)], [attr.str('reduction', 'add')])[0];
  transpose(ctx, ctx.node('Reshape', [dx, ctx.int64([n, ch, h, w])])[0], [0, 2, 3, 1], ctx.outputs);
}
