import * as tf from '@tensorflow/tfjs-core';
import { attr, axisOf, spec, type KernelSpec, type Meta } from './kernel.js';

const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

function reshapeTo(shape: number[], target: number[]): number[] {
  const known = sizeOf(target.filter((d) => d !== -1));
  return target.map((d) => (d === -1 ? sizeOf(shape) / known : d));
}

/** The sliced region of a Slice call: begin and size with -1 resolved. */
function sliceRegion(shape: number[], a: Record<string, any>): { begin: number[]; size: number[] } {
  const [begin, size] = tf.slice_util.parseSliceParams({ shape, rank: shape.length } as tf.Tensor, a.begin, a.size);
  return { begin, size };
}

export const shapeKernels: KernelSpec[] = [
  spec('Reshape', ['x'], ([x], a) => ({ shape: reshapeTo(x.shape, a.shape), dtype: x.dtype }), (ctx) =>
    void ctx.node('Reshape', [ctx.inputs[0], ctx.int64(ctx.outputMetas[0].shape)], [], ctx.outputs)),
  spec('ExpandDims', ['input'], ([x], a) => {
    const shape = [...x.shape];
    shape.splice(axisOf(a.dim, shape.length + 1), 0, 1);
    return { shape, dtype: x.dtype };
  }, (ctx) => void ctx.node('Reshape', [ctx.inputs[0], ctx.int64(ctx.outputMetas[0].shape)], [], ctx.outputs)),
  {
    name: 'SplitV',
    inputs: ['x'],
    multiOutput: true,
    infer: ([x], a) => {
      const axis = axisOf(a.axis, x.shape.length);
      const sizes = tf.backend_util.prepareSplitSize({ shape: x.shape, rank: x.shape.length } as tf.Tensor, a.numOrSizeSplits, axis);
      return sizes.map((d) => ({ shape: x.shape.map((s, i) => (i === axis ? d : s)), dtype: x.dtype }));
    },
    lower: (ctx, a) => {
      const axis = axisOf(a.axis, ctx.inputMetas[0].shape.length);
      ctx.node('Split', [ctx.inputs[0], ctx.int64(ctx.outputMetas.map((m) => m.shape[axis]))], [attr.int('axis', axis)], ctx.outputs);
    },
  },
  spec('UnsortedSegmentSum', ['x', 'segmentIds'], ([x], a) => ({ shape: [a.numSegments, ...x.shape.slice(1)], dtype: x.dtype }), (ctx, a) => {
    // Rows scatter-added by id (ScatterND, reduction add) onto zeros; ids must be in range.
    const [x, ids] = ctx.inputMetas;
    if (ids.shape.length !== 1) throw new Error('UnsortedSegmentSum with multi-dimensional ids has no lowering');
    const idx = ctx.node('Unsqueeze', [ctx.node('Cast', [ctx.inputs[1]], [attr.int('to', 7)])[0], ctx.int64([1])])[0];
    const zeros = ctx.scalar(0, x.dtype, [a.numSegments, ...x.shape.slice(1)]);
    ctx.node('ScatterND', [zeros, idx, ctx.inputs[0]], [attr.str('reduction', 'add')], ctx.outputs);
  }),
  spec('Transpose', ['x'], ([x], a) => ({ shape: (a.perm as number[]).map((p) => x.shape[p]), dtype: x.dtype }), (ctx, a) =>
    void ctx.node('Transpose', ctx.inputs, [attr.ints('perm', a.perm)], ctx.outputs)),
  spec('Concat', 'list', (ms, a) => {
    const axis = axisOf(a.axis, ms[0].shape.length);
    const shape = [...ms[0].shape];
    shape[axis] = ms.reduce((n, m) => n + m.shape[axis], 0);
    return { shape, dtype: ms[0].dtype };
  }, (ctx, a) => void ctx.node('Concat', ctx.inputs, [attr.int('axis', axisOf(a.axis, ctx.inputMetas[0].shape.length))], ctx.outputs)),
  spec('Pack', 'list', (ms, a) => {
    const shape = [...ms[0].shape];
    shape.splice(axisOf(a.axis, shape.length + 1), 0, ms.length);
    return { shape, dtype: ms[0].dtype };
  }, (ctx, a) => {
    const axis = axisOf(a.axis, ctx.inputMetas[0].shape.length + 1);
    const parts = ctx.inputs.map((x) => ctx.node('Unsqueeze', [x, ctx.int64([axis])])[0]);
    ctx.node('Concat', parts, [attr.int('axis', axis)], ctx.outputs);
  }),
  {
    name: 'Unpack',
    inputs: ['value'],
    multiOutput: true,
    infer: ([x], a) => {
      const axis = axisOf(a.axis, x.shape.length);
      return Array.from({ length: x.shape[axis] }, () => ({ shape: x.shape.filter((_, i) => i !== axis), dtype: x.dtype }));
    },
    lower: (ctx, a) => {
      const axis = axisOf(a.axis, ctx.inputMetas[0].shape.length);
      const n = ctx.outputs.length;
      const parts = ctx.node('Split', [ctx.inputs[0], ctx.int64(Array(n).fill(1))], [attr.int('axis', axis)], n);
      parts.forEach((p, i) => ctx.node('Squeeze', [p, ctx.int64([axis])], [], [ctx.outputs[i]]));
    },
  },
  spec('Slice', ['x'], ([x], a) => ({ shape: sliceRegion(x.shape, a).size, dtype: x.dtype }), (ctx, a) => {
    const { begin, size } = sliceRegion(ctx.inputMetas[0].shape, a);
    const axes = begin.map((_, i) => i);
    ctx.node('Slice', [ctx.inputs[0], ctx.int64(begin), ctx.int64(begin.map((b, i) => b + size[i])), ctx.int64(axes)], [], ctx.outputs);
  }),
  spec('PadV2', ['x'], ([x], a) => ({ shape: x.shape.map((d, i) => d + a.paddings[i][0] + a.paddings[i][1]), dtype: x.dtype }), (ctx, a) => {
    const p = a.paddings as [number, number][];
    const pads = ctx.int64([...p.map((q) => q[0]), ...p.map((q) => q[1])]);
    ctx.node('Pad', [ctx.inputs[0], pads, ctx.scalar(a.constantValue ?? 0, ctx.inputMetas[0].dtype)], [attr.str('mode', 'constant')], ctx.outputs);
  }),
  spec('Tile', ['x'], ([x], a) => ({ shape: x.shape.map((d, i) => d * a.reps[i]), dtype: x.dtype }), (ctx, a) =>
    void ctx.node('Tile', [ctx.inputs[0], ctx.int64(a.reps)], [], ctx.outputs)),
  spec('BroadcastTo', ['x'], ([x], a) => ({ shape: [...a.shape], dtype: x.dtype }), (ctx, a) =>
    void ctx.node('Expand', [ctx.inputs[0], ctx.int64(a.shape)], [], ctx.outputs)),
  spec('Reverse', ['x'], ([x]) => ({ shape: [...x.shape], dtype: x.dtype }), (ctx, a) => {
    const rank = ctx.inputMetas[0].shape.length;
    const dims = (Array.isArray(a.dims) ? a.dims : [a.dims]).map((d: number) => axisOf(d, rank));
    if (dims.length === 0) return void ctx.node('Identity', ctx.inputs, [], ctx.outputs);
    const big = 2 ** 62;
    ctx.node('Slice', [ctx.inputs[0], ctx.int64(dims.map(() => -1)), ctx.int64(dims.map(() => -big)), ctx.int64(dims), ctx.int64(dims.map(() => -1))], [], ctx.outputs);
  }),
  spec('GatherV2', ['x', 'indices'], ([x, i], a) => {
    if (a.batchDims) throw new Error('GatherV2 with batchDims has no lowering');
    const axis = axisOf(a.axis, x.shape.length);
    return { shape: [...x.shape.slice(0, axis), ...i.shape, ...x.shape.slice(axis + 1)], dtype: x.dtype };
  }, (ctx, a) => void ctx.node('Gather', ctx.inputs, [attr.int('axis', axisOf(a.axis, ctx.inputMetas[0].shape.length))], ctx.outputs)),
  spec('OneHot', ['indices'], ([i], a) => ({ shape: [...i.shape, a.depth], dtype: a.dtype ?? 'int32' }), (ctx, a) => {
    // Equality with a range, not ONNX OneHot: ONNX counts negative indices from the end, tfjs gives a zero row.
    const m = ctx.inputMetas[0];
    const idx = ctx.node('Unsqueeze', [ctx.inputs[0], ctx.int64([m.shape.length])])[0];
    const range = ctx.values([...Array(a.depth).keys()], 'int32');
    const hot = ctx.node('Equal', [m.dtype === 'int32' ? idx : ctx.node('Cast', [idx], [attr.int('to', 6)])[0], range])[0];
    const dtype = a.dtype ?? 'int32';
    ctx.node('Where', [hot, ctx.scalar(a.onValue ?? 1, dtype), ctx.scalar(a.offValue ?? 0, dtype)], [], ctx.outputs);
  }),
  spec('ZerosLike', ['x'], ([x]) => ({ shape: [...x.shape], dtype: x.dtype }), (ctx) => filled(ctx, 0)),
  spec('OnesLike', ['x'], ([x]) => ({ shape: [...x.shape], dtype: x.dtype }), (ctx) => filled(ctx, 1)),
  spec('Fill', [], (_m, a) => ({ shape: [...a.shape], dtype: a.dtype }), (ctx, a) => filled(ctx, a.value)),
];

function filled(ctx: Parameters<KernelSpec['lower']>[0], value: number): void {
  const m: Meta = ctx.outputMetas[0];
  ctx.node('Expand', [ctx.scalar(value, m.dtype), ctx.int64(m.shape)], [], ctx.outputs);
}

