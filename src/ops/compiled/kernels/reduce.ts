import { attr, axisOf, spec, type KernelSpec, type LowerContext, type Meta } from './kernel.js';

function axesOf(attrs: Record<string, any>, rank: number): number[] {
  const a = attrs.axis ?? attrs.reductionIndices;
  const list: number[] = a === undefined || a === null ? [...Array(rank).keys()] : Array.isArray(a) ? a : [a];
  return [...new Set(list.map((x) => axisOf(x, rank)))].sort((p, q) => p - q);
}

function reducedShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** tfjs sums and products of bool and int32 give int32. */
const reduceInfer = (keepInt: boolean) => ([x]: Meta[], a: Record<string, any>): Meta => ({
  shape: reducedShape(x.shape, axesOf(a, x.shape.length), Boolean(a.keepDims)),
  dtype: x.dtype === 'bool' ? (keepInt ? 'int32' : 'bool') : x.dtype,
});

function reduce(ctx: LowerContext, op: string, x: string, axes: number[], keepDims: boolean, out?: string[]): string[] {
  if (axes.length === 0) return ctx.node('Identity', [x], [], out);
  // ReduceSum takes its axes as an input from opset 13; the others as an attribute until opset 18.
  if (op === 'ReduceSum') return ctx.node(op, [x, ctx.int64(axes)], [attr.int('keepdims', keepDims ? 1 : 0)], out);
  return ctx.node(op, [x], [attr.ints('axes', axes), attr.int('keepdims', keepDims ? 1 : 0)], out);
}

const simple = (name: string, op: string, intOut: boolean) =>
  spec(name, ['x'], reduceInfer(intOut), (ctx, a) => {
    const m = ctx.inputMetas[0];
    let x = ctx.inputs[0];
    if (m.dtype === 'bool') x = ctx.node('Cast', [x], [attr.int('to', 6)])[0];
    reduce(ctx, op, x, axesOf(a, m.shape.length), Boolean(a.keepDims), ctx.outputs);
  });

/** All / Any: min / max over the values as int32, back to bool. */
const logical = (name: string, op: string) =>
  spec(name, ['x'], reduceInfer(false), (ctx, a) => {
    const x = ctx.node('Cast', [ctx.inputs[0]], [attr.int('to', 6)])[0];
    const r = reduce(ctx, op, x, axesOf(a, ctx.inputMetas[0].shape.length), Boolean(a.keepDims))[0];
    ctx.node('Cast', [r], [attr.int('to', 9)], ctx.outputs);
  });

/** ArgMax / ArgMin over one axis; ONNX gives int64, tfjs int32. Both take the first extreme. */
const arg = (name: string, op: string) =>
  spec(name, ['x'], ([x], a) => ({ shape: x.shape.filter((_, i) => i !== axisOf(a.axis, x.shape.length)), dtype: 'int32' }), (ctx, a) => {
    const axis = axisOf(a.axis, ctx.inputMetas[0].shape.length);
    const r = ctx.node(op, ctx.inputs, [attr.int('axis', axis), attr.int('keepdims', 0), attr.int('select_last_index', 0)])[0];
    ctx.node('Cast', [r], [attr.int('to', 6)], ctx.outputs);
  });

/** Below this many rows ReduceSum is as fast as the product. */
const COLUMN_SUM_ROWS = 4096;

const reduceSum = simple('Sum', 'ReduceSum', true);

/**
 * A float sum over leading axes (a bias gradient: dy summed over batch and
 * positions) as ones [1, rows] times x [rows, columns]: ONNX Runtime's
 * ReduceSum over the leading axes of [64, 26, 26, 32] ran ~0.3 ms on one
 * thread and ~1.2 ms on two; the product runs in its matrix kernels.
 */
const sum = spec('Sum', ['x'], reduceInfer(true), (ctx, a) => {
  const m = ctx.inputMetas[0];
  const axes = axesOf(a, m.shape.length);
  const rows = axes.reduce((p, i) => p * m.shape[i], 1);
  const leading = axes.every((ax, i) => ax === i) && axes.length < m.shape.length;
  if (m.dtype !== 'float32' || !leading || rows < COLUMN_SUM_ROWS) return reduceSum.lower(ctx, a);
  const x = ctx.node('Reshape', [ctx.inputs[0], ctx.int64([rows, -1])])[0];
  const total = ctx.node('MatMul', [ctx.scalar(1, 'float32', [1, rows]), x])[0];
  ctx.node('Reshape', [total, ctx.int64(ctx.outputMetas[0].shape)], [], ctx.outputs);
});

export const reduceKernels: KernelSpec[] = [
  sum, simple('Mean', 'ReduceMean', false), simple('Max', 'ReduceMax', false),
  simple('Min', 'ReduceMin', false), simple('Prod', 'ReduceProd', true),
  logical('All', 'ReduceMin'), logical('Any', 'ReduceMax'), arg('ArgMax', 'ArgMax'), arg('ArgMin', 'ArgMin'),
  spec('Softmax', ['logits'], ([x]) => ({ shape: [...x.shape], dtype: x.dtype }), (ctx, a) =>
    void ctx.node('Softmax', ctx.inputs, [attr.int('axis', axisOf(a.dim ?? -1, ctx.inputMetas[0].shape.length))], ctx.outputs)),
];

