import * as ops from '../ops/index.js';
import { ShapeMismatchError } from '../core/errors.js';
import { foldIn, type Key } from '../core/rng.js';
import type { TensorTree } from '../core/tree.js';
import type { ApplyOptions, Layer, Shape, Tensors, Weights } from '../layers/layer.js';
import type { GraphNode, SymbolicTensor } from '../layers/layer.js';

/**
 * A functional model's graph: nodes in execution order and layers in Keras's
 * order (by decreasing depth, ties by first discovery from the outputs), as
 * tf.keras's `_map_graph_network` computes them. Weight files list layers in
 * this order.
 */
export interface Graph {
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
  readonly nodes: readonly GraphNode[];
  readonly layers: readonly Layer[];
}

export function buildGraph(inputs: readonly SymbolicTensor[], outputs: readonly SymbolicTensor[]): Graph {
  const finished = new Set<GraphNode>();
  const inProgress = new Set<GraphNode>();
  const postOrder: GraphNode[] = [];
  const layerIndex = new Map<Layer, number>();
  const visit = (t: SymbolicTensor) => {
    const node = t.node;
    if (finished.has(node)) return;
    if (inProgress.has(node)) throw new Error(`the graph has a cycle at layer '${node.layer.name}'`);
    if (!layerIndex.has(node.layer)) layerIndex.set(node.layer, layerIndex.size);
    inProgress.add(node);
    for (const i of node.inputs) visit(i);
    finished.add(node);
    inProgress.delete(node);
    postOrder.push(node);
  };
  outputs.forEach(visit);

  const inputNodes = new Set(inputs.map((t) => t.node));
  for (const node of postOrder)
    if (node.inputs.length === 0 && !inputNodes.has(node))
      throw new Error(`output depends on input layer '${node.layer.name}', which is not among the model's inputs`);

  const nodeDepth = new Map<GraphNode, number>();
  const layerDepth = new Map<Layer, number>();
  for (const node of [...postOrder].reverse()) {
    const depth = Math.max(nodeDepth.get(node) ?? 0, layerDepth.get(node.layer) ?? 0);
    layerDepth.set(node.layer, depth);
    nodeDepth.set(node, depth);
    for (const i of node.inputs) nodeDepth.set(i.node, Math.max(depth + 1, nodeDepth.get(i.node) ?? 0));
  }
  const layers = [...layerDepth.keys()].sort(
    (a, b) => layerDepth.get(b)! - layerDepth.get(a)! || layerIndex.get(a)! - layerIndex.get(b)!,
  );
  const names = new Set<string>();
  for (const l of layers) {
    if (names.has(l.name)) throw new Error(`two different layers are named '${l.name}'; layer names in a model must be unique`);
    names.add(l.name);
  }
  return { inputs, outputs, nodes: postOrder, layers };
}

export interface RunOptions extends ApplyOptions {
  key?: Key;
}

/**
 * Runs the graph: params and state are keyed by layer name. Returns the
 * outputs, the new state of every layer that has state, and the activity
 * regularisation terms of a training call. Each call gets its randomness
 * (Dropout masks) from the key folded with its position in the graph, so
 * equal models given the same key draw the same masks, whatever their
 * layers are named.
 */
export function runGraph(
  graph: Graph,
  params: TensorTree,
  state: TensorTree,
  inputs: ops.Tensor[],
  options: RunOptions,
): { outputs: ops.Tensor[]; state: TensorTree; losses: ops.Scalar[] } {
  if (inputs.length !== graph.inputs.length)
    throw new ShapeMismatchError('model inputs', `${graph.inputs.length} input tensor(s)`, `${inputs.length}`);
  const values = new Map<SymbolicTensor, ops.Tensor>();
  graph.inputs.forEach((t, i) => {
    checkShape(`input '${t.node.layer.name}'`, t.shape, inputs[i]);
    values.set(t, inputs[i]);
  });
  const position = new Map(graph.nodes.map((n, i) => [n, i]));
  const r = runNodes(graph.nodes, values, params, state, options, (node) => position.get(node)!);
  return { outputs: graph.outputs.map((t) => values.get(t)!), state: r.state, losses: r.losses };
}

/**
 * Runs `nodes` (in execution order) on the values already in `values`,
 * adding every output to it; a value's mask travels with it only within
 * one call. `nodeKey` gives the number a node folds into the key it draws
 * its randomness from (its position in the whole graph).
 * Returns the new state of every layer that has state (the others' as
 * given) and the activity regularisation terms of a training call.
 */
export function runNodes(
  nodes: readonly GraphNode[],
  values: Map<SymbolicTensor, ops.Tensor>,
  params: TensorTree,
  state: TensorTree,
  options: RunOptions,
  nodeKey: (node: GraphNode) => number,
): { state: TensorTree; losses: ops.Scalar[] } {
  const masks = new Map<SymbolicTensor, ops.Tensor | null>();
  const newState: TensorTree = { ...state };
  const losses: ops.Scalar[] = [];
  for (const node of nodes) {
    if (node.inputs.length === 0) continue;
    const layer = node.layer;
    const xs = node.inputs.map((t) => values.get(t)!);
    const inMasks = node.inputs.map((t) => masks.get(t) ?? null);
    const frozen = options.frozen === true || !layer.trainable;
    const training = options.training && !(layer.inferenceWhenFrozen && frozen);
    const layerInputs: Tensors = node.inputs.length === 1 ? xs[0] : xs;
    const mask = node.inputs.length === 1 ? inMasks[0] : inMasks.some((m) => m) ? inMasks : null;
    const result = layer.apply(
      (params[layer.name] ?? {}) as Weights,
      (newState[layer.name] ?? {}) as Weights,
      layerInputs,
      { training, key: options.key === undefined ? undefined : foldIn(options.key, nodeKey(node)), mask, frozen },
    );
    if (Object.keys(result.state).length > 0) newState[layer.name] = result.state;
    if (result.losses) losses.push(...result.losses);
    const outs = Array.isArray(result.outputs) ? result.outputs : [result.outputs];
    if (options.training && layer.activityRegularization) {
      // As tf.keras's base Layer does: the penalty of the outputs, divided by the batch size.
      const term = layer.activityRegularization(result.outputs);
      if (term) losses.push(ops.tidy(() => ops.div(term, outs[0].rank > 0 ? outs[0].shape[0] : 1) as ops.Scalar));
    }
    const outMask = layer.computeMask ? layer.computeMask(layerInputs, mask) : node.inputs.length === 1 ? inMasks[0] : null;
    node.outputs.forEach((t, i) => {
      values.set(t, outs[i]);
      masks.set(t, Array.isArray(outMask) ? outMask[i] : outMask);
    });
  }
  return { state: newState, losses };
}

function checkShape(where: string, expected: Shape, x: ops.Tensor): void {
  const ok = expected.length === x.rank && expected.every((d, i) => d === null || d === x.shape[i]);
  if (!ok) throw new ShapeMismatchError(where, expected, x.shape);
}
