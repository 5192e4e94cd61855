import * as tf from '@tensorflow/tfjs-core';
import { attr, fusedActivation, optionalInput, spec, type KernelSpec, type LowerContext, type Meta } from './kernel.js';

function matmulShape([a, b]: Meta[], ta: boolean, tb: boolean): number[] {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = ta ? a.shape[ra - 1] : a.shape[ra - 2];
  const n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  const batch = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return [...batch, m, n];
}

/** Swaps the last two axes. */
function swapLast(ctx: LowerContext, x: string, rank: number): string {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return ctx.node('Transpose', [x], [attr.ints('perm', perm)])[0];
}

/** a @ b with tfjs's transpose flags: Gemm for matrices, MatMul (broadcasting batch axes) otherwise. */
export function lowerMatMul(ctx: LowerContext, a: string, b: string, ta: boolean, tb: boolean, out?: string[]): string {
  const [ma, mb] = ctx.inputMetas;
  if (ma.shape.length === 2 && mb.shape.length === 2)
    return ctx.node('Gemm', [a, b], [attr.int('transA', ta ? 1 : 0), attr.int('transB', tb ? 1 : 0)], out)[0];
  return ctx.node('MatMul', [ta ? swapLast(ctx, a, ma.shape.length) : a, tb ? swapLast(ctx, b, mb.shape.length) : b], [], out)[0];
}

export const matmulKernels: KernelSpec[] = [
  spec('BatchMatMul', ['a', 'b'], (m, a) => ({ shape: matmulShape(m, Boolean(a.transposeA), Boolean(a.transposeB)), dtype: m[0].dtype }), (ctx, a) =>
    void lowerMatMul(ctx, ctx.inputs[0], ctx.inputs[1], Boolean(a.transposeA), Boolean(a.transposeB), ctx.outputs)),
  {
    ...spec('_FusedMatMul', ['a', 'b', 'bias', 'preluActivationWeights'], (m, a) => ({ shape: matmulShape(m, Boolean(a.transposeA), Boolean(a.transposeB)), dtype: m[0].dtype }), (ctx, a) => {
      let y = lowerMatMul(ctx, ctx.inputs[0], ctx.inputs[1], Boolean(a.transposeA), Boolean(a.transposeB));
      const bias = optionalInput(ctx, a, 'bias');
      if (bias) y = ctx.node('Add', [y, bias])[0];
      fusedActivation(ctx, y, a, optionalInput(ctx, a, 'preluActivationWeights'), ctx.outputs);
    }),
    optional: ['bias', 'preluActivationWeights'],
  },
];
