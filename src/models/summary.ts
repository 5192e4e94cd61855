import { leaves, type TensorTree } from '../core/tree.js';
import type { GraphNode, Layer, Shape, Shapes, SymbolicTensor } from '../layers/layer.js';
import { isShapeList } from '../layers/symbolic.js';
import type { Variables } from '../training/types.js';

/** What the table shows: a built model's layers, graph outputs, weights and parameter counts. */
export interface Summarized {
  readonly name: string;
  readonly className: string;
  readonly layers: readonly Layer[];
  readonly outputs: SymbolicTensor[];
  countParams(): { total: number; trainable: number; nonTrainable: number };
}

/**
 * Keras 2's `model.summary()` table: three columns for Sequential models,
 * four (with "Connected to") for functional ones, then total, trainable and
 * non-trainable parameter counts.
 */
export function summary(model: Summarized, v: Variables): string {
  const sequential = model.className === 'Sequential';
  const lineLength = sequential ? 65 : 98;
  const positions = (sequential ? [0.45, 0.85, 1] : [0.33, 0.55, 0.67, 1]).map((p) => Math.floor(lineLength * p));
  const header = sequential ? ['Layer (type)', 'Output Shape', 'Param #'] : ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'];
  const lines = [`Model: "${model.name}"`, '_'.repeat(lineLength), row(header, positions), '='.repeat(lineLength)];
  const nodes = graphNodes(model);
  const layers = model.layers;
  layers.forEach((layer, i) => {
    const count = leaves({ p: (v.params[layer.name] ?? {}) as TensorTree, s: (v.state[layer.name] ?? {}) as TensorTree }).reduce(
      (n, [, t]) => n + t.size,
      0,
    );
    const layerNodes = nodes.filter((n) => n.layer === layer);
    const shapes = layerNodes[0]?.outputs.map((t) => t.shape) ?? [];
    const shape = layer.className === 'InputLayer' ? `[${shapes.map(fmtShape).join(', ')}]` : fmtShapes(shapes.length === 1 ? shapes[0] : shapes);
    const name = `${layer.name} (${layer.className})`;
    if (sequential) lines.push(row([name, shape, String(count)], positions));
    else {
      const connections = layerNodes.flatMap((n) => n.inputs.map((t) => `${t.node.layer.name}[0][${t.index}]`));
      lines.push(row([name, shape, String(count), connections[0] ?? ''], positions));
      for (const c of connections.slice(1)) lines.push(row(['', '', '', c], positions));
    }
    lines.push(i === layers.length - 1 ? '='.repeat(lineLength) : '_'.repeat(lineLength));
  });
  if (layers.length === 0) lines.push('='.repeat(lineLength));
  const { total, trainable, nonTrainable } = model.countParams();
  lines.push(`Total params: ${fmt(total)}`, `Trainable params: ${fmt(trainable)}`, `Non-trainable params: ${fmt(nonTrainable)}`, '_'.repeat(lineLength));
  return lines.join('\n');
}

function graphNodes(model: Summarized) {
  try {
    return model.outputs.length ? collect(model) : [];
  } catch {
    return [];
  }
}

function collect(model: Summarized) {
  const seen = new Set<unknown>();
  const out: GraphNode[] = [];
  const visit = (t: SymbolicTensor) => {
    if (seen.has(t.node)) return;
    seen.add(t.node);
    t.node.inputs.forEach(visit);
    out.push(t.node);
  };
  model.outputs.forEach(visit);
  return out;
}

function row(fields: string[], positions: number[]): string {
  let line = '';
  fields.forEach((f, i) => {
    line += f;
    line = line.slice(0, positions[i] - 1).padEnd(positions[i]);
  });
  return line.trimEnd();
}

function fmtShape(s: Shape): string {
  const dims = s.map((d) => (d === null ? 'None' : String(d)));
  return `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;
}

function fmtShapes(s: Shapes): string {
  return isShapeList(s) ? `[${s.map(fmtShape).join(', ')}]` : fmtShape(s);
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
