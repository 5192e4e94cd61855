import * as ops from '../ops/index.js';
import { leaves, mapTree, type TensorTree } from '../core/tree.js';
import type { GraphNode, Layer, SymbolicTensor } from '../layers/layer.js';
import type { WireTensor } from '../parallel/wire.js';
import { runNodes, type Graph, type RunOptions } from './graph.js';

/**
 * A placed model's graph cut into blocks: runs of consecutive nodes (in
 * execution order) on one device. A run of consecutive nodes is convex
 * (every path between two of its nodes stays inside it), so blocks form a
 * DAG and each block is one function from its inputs and its layers'
 * weights to its outputs, which a device runs forward and differentiates.
 */
export interface Block {
  index: number;
  /** '/cpu:0' for the main thread. */
  device: string;
  nodes: GraphNode[];
  /** Values the block reads that are made outside it (model inputs included). */
  inputs: SymbolicTensor[];
  /** Values the block makes that a later block or the model's outputs read. */
  outputs: SymbolicTensor[];
  layers: Layer[];
}

export const MAIN_DEVICE = '/cpu:0';

/** Whether any call of the graph runs off the main thread. */
export function isPlaced(graph: Graph): boolean {
  return graph.nodes.some((n) => n.device !== undefined && n.device !== MAIN_DEVICE);
}

export function blocksOf(graph: Graph): Block[] {
  const blocks: Block[] = [];
  for (const node of graph.nodes) {
    if (node.inputs.length === 0) continue;
    const device = node.device ?? MAIN_DEVICE;
    const last = blocks[blocks.length - 1];
    if (last && last.device === device) last.nodes.push(node);
    else blocks.push({ index: blocks.length, device, nodes: [node], inputs: [], outputs: [], layers: [] });
  }
  const blockOf = new Map<GraphNode, Block>();
  for (const b of blocks) for (const n of b.nodes) blockOf.set(n, b);
  const modelOutputs = new Set(graph.outputs);
  for (const b of blocks) {
    const inputs = new Set<SymbolicTensor>();
    for (const n of b.nodes) for (const t of n.inputs) if (blockOf.get(t.node) !== b) inputs.add(t);
    b.inputs = [...inputs];
    b.layers = [...new Set(b.nodes.map((n) => n.layer))];
  }
  for (const b of blocks) {
    const read = new Set(blocks.filter((o) => o !== b).flatMap((o) => o.inputs));
    b.outputs = b.nodes.flatMap((n) => n.outputs).filter((t) => read.has(t) || modelOutputs.has(t));
  }
  return blocks;
}

/**
 * Names of nodes and values that are the same in every copy of a model
 * built from one config: a layer's name and the index of the call among
 * that layer's calls ('lstm#1'), then the output index ('lstm#1:0'); and
 * each node's position in the graph, which its randomness is drawn from
 * (as runGraph does, so a placed call draws the masks it draws unplaced).
 */
export function graphKeys(graph: Graph): { node: Map<GraphNode, string>; value: (t: SymbolicTensor) => string; byKey: Map<string, SymbolicTensor>; position: Map<GraphNode, number> } {
  const node = new Map<GraphNode, string>();
  const count = new Map<Layer, number>();
  for (const n of [...graph.nodes].sort((a, b) => a.id - b.id)) {
    const k = count.get(n.layer) ?? 0;
    count.set(n.layer, k + 1);
    node.set(n, `${n.layer.name}#${k}`);
  }
  const value = (t: SymbolicTensor) => `${node.get(t.node)}:${t.index}`;
  const byKey = new Map<string, SymbolicTensor>();
  for (const n of graph.nodes) for (const t of n.outputs) byKey.set(value(t), t);
  return { node, value, byKey, position: new Map(graph.nodes.map((n, i) => [n, i])) };
}

/** The params (or state) of some layers, as a tree keyed by layer name. */
export function subtree(tree: TensorTree, layers: readonly Layer[]): TensorTree {
  const out: TensorTree = {};
  for (const l of layers) if (tree[l.name] !== undefined) out[l.name] = tree[l.name];
  return out;
}

/** What a device receives to run a block (placement-worker.ts): the block (by stable names), its inputs, its layers' weights, and the randomness of the step. */
export interface BlockArgs {
  session: number;
  nodes: string[];
  inputs: string[];
  outputs: string[];
  values: WireTensor[];
  params: [string, WireTensor][];
  state: [string, WireTensor][];
  training: boolean;
  key?: number;
}

export interface BlockCall {
  nodes: readonly GraphNode[];
  inputs: readonly SymbolicTensor[];
  outputs: readonly SymbolicTensor[];
  /** Randomness: the key, and what each node folds into it. */
  options: RunOptions;
  nodeKey: (n: GraphNode) => number;
}

/**
 * A block forward: its outputs, its layers' new state and the sum of its
 * activity penalties (or null), as new tensors the caller owns.
 */
export function runBlock(call: BlockCall, inputs: ops.Tensor[], params: TensorTree, state: TensorTree): { outputs: ops.Tensor[]; state: TensorTree; loss: ops.Scalar | null } {
  const out = ops.tidy(() => {
    const values = new Map(call.inputs.map((t, i) => [t, inputs[i]]));
    const r = runNodes(call.nodes, values, params, state, call.options, call.nodeKey);
    const given = new Set(leaves(state).map(([, t]) => t));
    // Unchanged state is returned as clones: every returned tensor is the caller's.
    const ownState = mapTree(subtree(r.state, [...new Set(call.nodes.map((n) => n.layer))]), (t) => (given.has(t) ? ops.clone(t) : t));
    return { outputs: call.outputs.map((t) => values.get(t)!), state: ownState, loss: r.losses.length ? [ops.addN(r.losses) as ops.Scalar] : [] };
  });
  return { outputs: out.outputs, state: out.state, loss: out.loss[0] ?? null };
}

/**
 * A block's vector-Jacobian product: recomputes the forward and returns the
 * gradients of `sum(outputs * cotangents) + activity penalties` with
 * respect to the inputs listed in `wrt` and to the `trainable` params
 * (paths into `params`), as new tensors the caller owns.
 */
export function blockVjp(
  call: BlockCall,
  inputs: ops.Tensor[],
  wrt: readonly number[],
  cotangents: (ops.Tensor | null)[],
  params: TensorTree,
  trainable: readonly string[],
  state: TensorTree,
): { inputs: ops.Tensor[]; params: [string, ops.Tensor][] } {
  const paramLeaves = new Map(leaves(params));
  const weights = trainable.map((p) => paramLeaves.get(p)!);
  const grads = ops.tidy(() =>
    ops.grads((...args: ops.Tensor[]) => {
      const xs = inputs.map((x, i) => (wrt.includes(i) ? args[wrt.indexOf(i)] : x));
      const replaced = new Map(trainable.map((p, i) => [p, args[wrt.length + i]]));
      const merged = mapTree(params, (t, path) => replaced.get(path) ?? t);
      const values = new Map(call.inputs.map((t, i) => [t, xs[i]]));
      const r = runNodes(call.nodes, values, merged, state, call.options, call.nodeKey);
      const terms = call.outputs.flatMap((t, i) => (cotangents[i] ? [ops.sum(ops.mul(values.get(t)!, cotangents[i]!))] : []));
      terms.push(...r.losses);
      // Every argument takes part (a zero gradient where it does not matter): tfjs refuses unconnected inputs.
      terms.push(ops.mul(ops.addN(args.map((a) => ops.sum(a))), 0) as ops.Scalar);
      return ops.addN(terms) as ops.Scalar;
    })([...wrt.map((i) => inputs[i]), ...weights]),
  );
  return { inputs: grads.slice(0, wrt.length), params: trainable.map((p, i) => [p, grads[wrt.length + i]]) };
}

/** Sums gradients that arrive for the same path (a layer shared by blocks on two devices). */
export function accumulate(into: Map<string, ops.Tensor>, path: string, g: ops.Tensor): void {
  const prev = into.get(path);
  if (!prev) into.set(path, g);
  else {
    into.set(path, ops.add(prev, g));
    ops.dispose([prev, g]);
  }
}

