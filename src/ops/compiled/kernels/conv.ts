import * as tf from '@tensorflow/tfjs-core';
import { attr, CUSTOM_DOMAIN, fusedActivation, optionalInput, spec, type KernelSpec, type LowerContext } from './kernel.js';

type Info = tf.backend_util.Conv2DInfo;

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
const HWIO_TO_OIHW = [3, 2, 0, 1];

function convInfo(xShape: number[], filterShape: number[], a: Record<string, any>, depthwise = false): Info {
  if (a.dataFormat === 'NCHW') throw new Error('Conv2D with dataFormat NCHW has no lowering');
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, depthwise, 'channelsLast',
  );
}

const transpose = (ctx: LowerContext, x: string, perm: number[], out?: string[]) => ctx.node('Transpose', [x], [attr.ints('perm', perm)], out)[0];

const geometry = (c: Info) => [
  attr.ints('strides', [c.strideHeight, c.strideWidth]),
  attr.ints('dilations', [c.dilationHeight, c.dilationWidth]),
  attr.ints('pads', [c.padInfo.top, c.padInfo.left, c.padInfo.bottom, c.padInfo.right]),
];

/**
 * For each filter tap (row-major), the strided slice of x (zero-padded) under
 * it, [.., OH, OW, ..]: x's spatial axes are `h` and `h + 1`.
 */
function taps(ctx: LowerContext, x: string, c: Info, h: number): string[] {
  const { padInfo: p } = c;
  let padded = x;
  if (p.top || p.bottom || p.left || p.right) {
    const pads = [0, 0, 0, 0, 0, 0, 0, 0];
    [pads[h], pads[h + 1], pads[h + 4], pads[h + 5]] = [p.top, p.left, p.bottom, p.right];
    padded = ctx.node('Pad', [x, ctx.int64(pads)], [attr.str('mode', 'constant')])[0];
  }
  const slices: string[] = [];
  for (let i = 0; i < c.filterHeight; i++)
    for (let j = 0; j < c.filterWidth; j++) {
      const h0 = i * c.dilationHeight;
      const w0 = j * c.dilationWidth;
      const ends = [h0 + (c.outHeight - 1) * c.strideHeight + 1, w0 + (c.outWidth - 1) * c.strideWidth + 1];
      slices.push(ctx.node('Slice', [padded, ctx.int64([h0, w0]), ctx.int64(ends), ctx.int64([h, h + 1]), ctx.int64([c.strideHeight, c.strideWidth])])[0]);
    }
  return slices;
}

const concat = (ctx: LowerContext, xs: string[], axis: number) => (xs.length === 1 ? xs[0] : ctx.node('Concat', xs, [attr.int('axis', axis)])[0]);

/** The input's KH x KW strided windows side by side (im2col), as [N*OH*OW, KH*KW*CI]. */
function patches(ctx: LowerContext, x: string, c: Info): string {
  const all = concat(ctx, taps(ctx, x, c, 1), 3);
  return ctx.node('Reshape', [all, ctx.int64([c.batchSize * c.outHeight * c.outWidth, c.filterHeight * c.filterWidth * c.inChannels])])[0];
}

/**
 * The filter gradient as one matrix product, as im2col does, with the patches
 * built transposed, [KH*KW*CI, rows], so that the product needs no
 * transposed operand: ONNX Runtime's Gemm with transA over a long inner
 * dimension ran ~2.5x slower than the forward convolution. The addon builds
 * the patches in one pass (FilterPatchesNchw); the standard operators from x in
 * CNHW, a strided Slice per tap and a Concat.
 */
function filterGrad(ctx: LowerContext, x: string, dy: string, c: Info, out: string[]): void {
  const rows = c.batchSize * c.outHeight * c.outWidth;
  const a = ctx.customOps ? nativePatches(ctx, x, c) : standardPatches(ctx, x, c);
  const b = ctx.node('Reshape', [dy, ctx.int64([rows, c.outChannels])])[0];
  const w = ctx.node('MatMul', [a, b])[0];
  ctx.node('Reshape', [w, ctx.int64([c.filterHeight, c.filterWidth, c.inChannels, c.outChannels])], [], out);
}

/** The transposed patches from the strided slices of x in CNHW. */
function standardPatches(ctx: LowerContext, x: string, c: Info): string {
  const all = concat(ctx, taps(ctx, transpose(ctx, x, [3, 0, 1, 2]), c, 2), 0);
  return ctx.node('Reshape', [all, ctx.int64([c.filterHeight * c.filterWidth * c.inChannels, c.batchSize * c.outHeight * c.outWidth])])[0];
}

/** The transposed patches as one kernel of rxkeras's addon, from x in NCHW (as the forward Conv reads it: ONNX Runtime cancels the transposes). */
function nativePatches(ctx: LowerContext, x: string, c: Info): string {
  const geometry = {
    kh: c.filterHeight, kw: c.filterWidth, sh: c.strideHeight, sw: c.strideWidth, dh: c.dilationHeight, dw: c.dilationWidth,
    pt: c.padInfo.top, pl: c.padInfo.left, oh: c.outHeight, ow: c.outWidth,
  };
  return ctx.node('FilterPatchesNchw', [transpose(ctx, x, NHWC_TO_NCHW)], Object.entries(geometry).map(([k, v]) => attr.int(k, v)), 1, CUSTOM_DOMAIN)[0];
}

/**
 * The input gradient in NHWC as im2col's transpose: dy [rows, CO] times the
 * filter [KH*KW*CI, CO] transposed gives each output position's patch
 * gradient, which the addon's PatchesAdd adds back under its window. The
 * product runs on both threads; ONNX Runtime's ConvTranspose on one, at
 * about twice the forward convolution's time.
 */
function nativeInputGrad(ctx: LowerContext, c: Info): void {
  const rows = c.batchSize * c.outHeight * c.outWidth;
  const dy = ctx.node('Reshape', [ctx.inputs[0], ctx.int64([rows, c.outChannels])])[0];
  const w = ctx.node('Reshape', [ctx.inputs[1], ctx.int64([c.filterHeight * c.filterWidth * c.inChannels, c.outChannels])])[0];
  const cols = ctx.node('MatMul', [dy, transpose(ctx, w, [1, 0])])[0];
  const geometry = {
    h: c.inHeight, w: c.inWidth, kh: c.filterHeight, kw: c.filterWidth, sh: c.strideHeight, sw: c.strideWidth,
    dh: c.dilationHeight, dw: c.dilationWidth, pt: c.padInfo.top, pl: c.padInfo.left, oh: c.outHeight, ow: c.outWidth,
  };
  ctx.node('PatchesAdd', [cols], Object.entries(geometry).map(([k, v]) => attr.int(k, v)), ctx.outputs, CUSTOM_DOMAIN);
}

/** The depthwise filter gradient: each channel's patches times its dy channels, summed over positions. */
function depthwiseFilterGrad(ctx: LowerContext, x: string, dy: string, c: Info, out: string[]): void {
  const rows = c.batchSize * c.outHeight * c.outWidth;
  const k = c.filterHeight * c.filterWidth;
  const mult = c.outChannels / c.inChannels;
  const p = ctx.node('Reshape', [patches(ctx, x, c), ctx.int64([rows, k, c.inChannels, 1])])[0];
  const d = ctx.node('Reshape', [dy, ctx.int64([rows, 1, c.inChannels, mult])])[0];
  const w = ctx.node('ReduceSum', [ctx.node('Mul', [p, d])[0], ctx.int64([0])], [attr.int('keepdims', 0)])[0];
  ctx.node('Reshape', [w, ctx.int64([c.filterHeight, c.filterWidth, c.inChannels, mult])], [], out);
}

/** A depthwise filter [KH, KW, CI, M] as a grouped convolution's weight [CI*M, 1, KH, KW]. */
function depthwiseWeight(ctx: LowerContext, filter: string, c: Info): string {
  const w = transpose(ctx, filter, [2, 3, 0, 1]);
  return ctx.node('Reshape', [w, ctx.int64([c.outChannels, 1, c.filterHeight, c.filterWidth])])[0];
}

/** ConvTranspose's output_padding that gives the forward convolution's input size. */
function outputPadding(c: Info): number[] {
  const size = (o: number, s: number, k: number, d: number, p0: number, p1: number) => s * (o - 1) + (k - 1) * d + 1 - p0 - p1;
  return [
    c.inHeight - size(c.outHeight, c.strideHeight, c.filterHeight, c.dilationHeight, c.padInfo.top, c.padInfo.bottom),
    c.inWidth - size(c.outWidth, c.strideWidth, c.filterWidth, c.dilationWidth, c.padInfo.left, c.padInfo.right),
  ];
}

/** Shape inference of an input gradient, refusing geometry ConvTranspose cannot express. */
function inputGradMeta(a: Record<string, any>, filterShape: number[], depthwise: boolean) {
  const c = convInfo(a.inputShape, filterShape, a, depthwise);
  if (outputPadding(c).some((e) => e < 0)) throw new Error('a padding larger than the window has no lowering');
  return { shape: [...a.inputShape] as number[], dtype: 'float32' as const };
}

/** The call's convolution in NCHW (x and filter transposed from NHWC / HWIO; ONNX Runtime cancels the transposes between layers). */
function conv(ctx: LowerContext, a: Record<string, any>, bias?: string): string {
  const c = convInfo(ctx.inputMetas[0].shape, ctx.inputMetas[1].shape, a);
  const x = transpose(ctx, ctx.inputs[0], NHWC_TO_NCHW);
  const w = transpose(ctx, ctx.inputs[1], HWIO_TO_OIHW);
  return ctx.node('Conv', bias ? [x, w, bias] : [x, w], [...geometry(c), attr.ints('kernel_shape', [c.filterHeight, c.filterWidth])])[0];
}

export const convKernels: KernelSpec[] = [
  spec('Conv2D', ['x', 'filter'], ([x, f], a) => {
    const c = convInfo(x.shape, f.shape, a);
    return { shape: [...c.outShape], dtype: x.dtype };
  }, (ctx, a) => void transpose(ctx, conv(ctx, a), NCHW_TO_NHWC, ctx.outputs)),
  {
    ...spec('FusedConv2D', ['x', 'filter', 'bias', 'preluActivationWeights'], ([x, f], a) => {
      const c = convInfo(x.shape, f.shape, a);
      return { shape: [...c.outShape], dtype: x.dtype };
    }, (ctx, a) => {
      const y = transpose(ctx, conv(ctx, a, optionalInput(ctx, a, 'bias')), NCHW_TO_NHWC);
      fusedActivation(ctx, y, a, optionalInput(ctx, a, 'preluActivationWeights'), ctx.outputs);
    }),
    optional: ['bias', 'preluActivationWeights'],
  },
  spec('Conv2DBackpropInput', ['dy', 'filter'], ([, f], a) => inputGradMeta(a, f.shape, false), (ctx, a) => {
    const c = convInfo(a.inputShape, ctx.inputMetas[1].shape, a);
    if (ctx.customOps) return nativeInputGrad(ctx, c);
    const dy = transpose(ctx, ctx.inputs[0], NHWC_TO_NCHW);
    const w = transpose(ctx, ctx.inputs[1], HWIO_TO_OIHW);
    const dx = ctx.node('ConvTranspose', [dy, w], [...geometry(c), attr.ints('kernel_shape', [c.filterHeight, c.filterWidth]), attr.ints('output_padding', outputPadding(c))])[0];
    transpose(ctx, dx, NCHW_TO_NHWC, ctx.outputs);
  }),
  spec('Conv2DBackpropFilter', ['x', 'dy'], ([x], a) => ({ shape: [...a.filterShape], dtype: x.dtype }), (ctx, a) => {
    const c = convInfo(ctx.inputMetas[0].shape, a.filterShape, a);
    filterGrad(ctx, ctx.inputs[0], ctx.inputs[1], c, ctx.outputs);
  }),
  spec('DepthwiseConv2dNative', ['x', 'filter'], ([x, f], a) => ({ shape: [...convInfo(x.shape, f.shape, a, true).outShape], dtype: x.dtype }), (ctx, a) => {
    const c = convInfo(ctx.inputMetas[0].shape, ctx.inputMetas[1].shape, a, true);
    const x = transpose(ctx, ctx.inputs[0], NHWC_TO_NCHW);
    const attrs = [...geometry(c), attr.ints('kernel_shape', [c.filterHeight, c.filterWidth]), attr.int('group', c.inChannels)];
    transpose(ctx, ctx.node('Conv', [x, depthwiseWeight(ctx, ctx.inputs[1], c)], attrs)[0], NCHW_TO_NHWC, ctx.outputs);
  }),
  spec('DepthwiseConv2dNativeBackpropInput', ['dy', 'filter'], ([, f], a) => inputGradMeta(a, f.shape, true), (ctx, a) => {
    const c = convInfo(a.inputShape, ctx.inputMetas[1].shape, a, true);
    const dy = transpose(ctx, ctx.inputs[0], NHWC_TO_NCHW);
    const attrs = [...geometry(c), attr.ints('kernel_shape', [c.filterHeight, c.filterWidth]), attr.ints('output_padding', outputPadding(c)), attr.int('group', c.inChannels)];
    transpose(ctx, ctx.node('ConvTranspose', [dy, depthwiseWeight(ctx, ctx.inputs[1], c)], attrs)[0], NCHW_TO_NHWC, ctx.outputs);
  }),
  spec('DepthwiseConv2dNativeBackpropFilter', ['x', 'dy'], ([x], a) => ({ shape: [...a.filterShape], dtype: x.dtype }), (ctx, a) => {
    depthwiseFilterGrad(ctx, ctx.inputs[0], ctx.inputs[1], convInfo(ctx.inputMetas[0].shape, a.filterShape, a, true), ctx.outputs);
  }),
];
