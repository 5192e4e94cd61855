import type { DataType } from '@tensorflow/tfjs-core';
import { encodeModel, valueInfo, ONNX_DTYPE, type OnnxAttribute, type OnnxNode, type OnnxTensor, type OnnxDtype } from '../onnx/onnx-proto.js';
import { CUSTOM_DOMAIN, kernelSpecs, type LowerContext } from './kernels/index.js';
import { fuse } from './fuse.js';
import type { HostArray, TraceNode, TraceValue } from './trace.js';

/** A graph cut from a trace: its nodes in order, what it reads, what it bakes in, what it returns. */
export interface CutGraph {
  nodes: TraceNode[];
  /** Values fed at every run (concrete before the cut). */
  inputs: TraceValue[];
  /** Small host constants, with their values baked into the graph. */
  baked: TraceValue[];
  outputs: TraceValue[];
}

function bytesOf(data: HostArray | BigInt64Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorProto(name: string, dtype: OnnxDtype, dims: number[], data: HostArray | BigInt64Array): OnnxTensor {
  return { name, dims, data_type: ONNX_DTYPE[dtype], raw_data: bytesOf(data).slice() };
}

function typedOf(dtype: DataType, values: readonly number[]): HostArray {
  return dtype === 'float32' ? Float32Array.from(values) : dtype === 'int32' ? Int32Array.from(values) : Uint8Array.from(values);
}

/** Writes a cut graph as an ONNX model; input i is named `i<i>`, output j `o<j>`; rxkeras's own operators where `customOps`. */
export function lowerGraph(g: CutGraph, customOps = false): Uint8Array {
  const names = new Map<TraceValue, string>();
  g.inputs.forEach((v, i) => names.set(v, `i${i}`));
  const onnxNodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const constCache = new Map<string, string>();
  let tmp = 0;
  const fresh = () => `t${tmp++}`;
  const constant = (key: string, make: (name: string) => OnnxTensor): string => {
    let name = constCache.get(key);
    if (!name) {
      name = `k${constCache.size}`;
      constCache.set(key, name);
      initializers.push(make(name));
    }
    return name;
  };
  g.baked.forEach((v) => {
    const name = `b${names.size}`;
    names.set(v, name);
    initializers.push(tensorProto(name, v.dtype as OnnxDtype, v.shape, v.data!));
  });
  const outputNames = new Map<TraceValue, string>();
  g.outputs.forEach((v, j) => outputNames.set(v, `o${j}`));
  for (const node of fuse(g.nodes, g.outputs, customOps)) {
    const spec = kernelSpecs.get(node.kernel)!;
    const outs = node.outputs.map((v) => {
      const name = outputNames.get(v) ?? fresh();
      names.set(v, name);
      return name;
    });
    const ctx: LowerContext = {
      inputs: node.inputs.map((v) => names.get(v)!),
      outputs: outs,
      inputMetas: node.inputs,
      outputMetas: node.outputs,
      node(op, inputs, attrs: OnnxAttribute[] = [], outputs?: string[] | number, domain?: string) {
        const o = Array.isArray(outputs) ? outputs : Array.from({ length: outputs ?? 1 }, fresh);
        onnxNodes.push({ op_type: op, input: inputs, output: o, attribute: attrs, ...(domain ? { domain } : {}) });
        return o;
      },
      int64: (values, dims) =>
        constant(`i64:${dims ?? ''}:${values.join(',')}`, (name) => tensorProto(name, 'int64', dims ?? [values.length], BigInt64Array.from(values.map((x) => BigInt(x))))),
      scalar(value, dtype, dims) {
        const one = constant(`${dtype}:${value}`, (name) => tensorProto(name, dtype as OnnxDtype, [], typedOf(dtype, [value])));
        return dims ? this.node('Expand', [one, this.int64(dims)])[0] : one;
      },
      customOps,
      values: (values, dtype) =>
        constant(`${dtype}[${values.join(',')}]`, (name) => tensorProto(name, dtype as OnnxDtype, [values.length], typedOf(dtype, values))),
    };
    spec.lower(ctx, node.attrs);
  }
  const custom = onnxNodes.some((n) => n.domain === CUSTOM_DOMAIN);
  return encodeModel({
    name: 'rxkeras',
    node: onnxNodes,
    initializer: initializers,
    input: g.inputs.map((v, i) => valueInfo(`i${i}`, v.dtype as OnnxDtype, v.shape)),
    output: g.outputs.map((v, j) => valueInfo(`o${j}`, v.dtype as OnnxDtype, v.shape)),
  }, custom ? [CUSTOM_DOMAIN] : []);
}
