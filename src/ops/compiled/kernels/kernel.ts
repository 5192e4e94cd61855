import type { DataType } from '@tensorflow/tfjs-core';
import { ATTR, type OnnxAttribute } from '../../onnx/onnx-proto.js';

/** What shape inference sees of a tensor. */
export interface Meta {
  shape: number[];
  dtype: DataType;
}

/** What a lowering may ask while it writes the ONNX nodes of one recorded kernel call. */
export interface LowerContext {
  /** ONNX value names of the call's inputs and outputs, with their metas. */
  readonly inputs: string[];
  readonly outputs: string[];
  readonly inputMetas: Meta[];
  readonly outputMetas: Meta[];
  /** Appends a node; returns its output names (fresh ones unless given). */
  node(op: string, inputs: string[], attrs?: OnnxAttribute[], outputs?: string[] | number, domain?: string): string[];
  /** An initializer holding int64 values (shapes, axes, pads). */
  int64(values: readonly number[], dims?: number[]): string;
  /** An initializer holding one value (or a tensor of `dims`) of a dtype. */
  scalar(value: number, dtype: DataType, dims?: number[]): string;
  /** An initializer holding a 1-D list of values. */
  values(values: readonly number[], dtype: DataType): string;
  /** Whether the session runs rxkeras's own operators (domain CUSTOM_DOMAIN: the addon registers them). */
  readonly customOps: boolean;
}

/** The ONNX domain of the operators rxkeras's addon registers (native/ort-session/src/custom-ops.h). */
export const CUSTOM_DOMAIN = 'ai.rxkeras';

/**
 * A kernel the compiled backend can trace: how tfjs names its inputs, how
 * its output shapes follow from the inputs' (so that tracing computes
 * nothing), and how it becomes ONNX nodes.
 */
export interface KernelSpec {
  readonly name: string;
  /** tfjs's input names in order; 'list' for kernels that take an array (AddN, Concat, Pack). */
  readonly inputs: readonly string[] | 'list';
  /** Named inputs tfjs may leave out (a fused kernel's bias); lowerings find the present ones in attrs._present. */
  readonly optional?: readonly string[];
  /** tfjs expects an array of outputs even when there is one (Unpack). */
  readonly multiOutput?: boolean;
  infer(inputs: Meta[], attrs: Record<string, any>): Meta[];
  lower(ctx: LowerContext, attrs: Record<string, any>): void;
}

export const attr = {
  int: (name: string, i: number): OnnxAttribute => ({ name, type: ATTR.INT, i }),
  float: (name: string, f: number): OnnxAttribute => ({ name, type: ATTR.FLOAT, f }),
  ints: (name: string, ints: readonly number[]): OnnxAttribute => ({ name, type: ATTR.INTS, ints: [...ints] }),
  str: (name: string, s: string): OnnxAttribute => ({ name, type: ATTR.STRING, s: new TextEncoder().encode(s) }),
};

/** ONNX's TensorProto data types for tfjs dtypes (Cast's `to`). */
export const onnxType = (dtype: DataType): number => ({ float32: 1, int32: 6, bool: 9 })[dtype as 'float32' | 'int32' | 'bool'] ?? 1;

/** A spec whose single output has the meta `f` computes; `lower` writes the nodes. */
export function spec(
  name: string,
  inputs: readonly string[] | 'list',
  infer: (inputs: Meta[], attrs: Record<string, any>) => Meta | Meta[],
  lower: (ctx: LowerContext, attrs: Record<string, any>) => void,
): KernelSpec {
  return {
    name,
    inputs,
    infer: (i, a) => {
      const m = infer(i, a);
      return Array.isArray(m) ? m : [m];
    },
    lower,
  };
}

/** Normalises a possibly negative axis. */
export const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** The activation of tfjs's fused kernels (_FusedMatMul, FusedConv2D), applied to `x`. */
export function fusedActivation(ctx: LowerContext, x: string, a: Record<string, any>, alpha: string | undefined, out: string[]): void {
  switch (a.activation ?? 'linear') {
    case 'linear': return void ctx.node('Identity', [x], [], out);
    case 'relu': return void ctx.node('Relu', [x], [], out);
    case 'relu6': return void ctx.node('Clip', [x, ctx.scalar(0, 'float32'), ctx.scalar(6, 'float32')], [], out);
    case 'elu': return void ctx.node('Elu', [x], [], out);
    case 'sigmoid': return void ctx.node('Sigmoid', [x], [], out);
    case 'leakyrelu': return void ctx.node('LeakyRelu', [x], [attr.float('alpha', a.leakyreluAlpha ?? 0.2)], out);
    case 'prelu': return void ctx.node('PRelu', [x, alpha!], [], out);
    default: throw new Error(`fused activation '${a.activation}' has no lowering`);
  }
}

/** The value name of an optional input, if the call had it. */
export function optionalInput(ctx: LowerContext, a: Record<string, any>, name: string): string | undefined {
  const i = (a._present as string[]).indexOf(name);
  return i < 0 ? undefined : ctx.inputs[i];
}
