import { InvalidArgumentError } from '../core/errors.js';
import { Model } from '../models/model.js';
import type { GraphNode, Layer, Shape, SymbolicTensor } from '../layers/layer.js';

/** Keras's `plot_model` / `model_to_dot` arguments, in camelCase. */
export interface PlotModelOptions {
  /** Input and output shapes in each box (default false). */
  showShapes?: boolean;
  /** `name: Class` rather than `Class` (default true). */
  showLayerNames?: boolean;
  /** Graphviz's rankdir: 'TB' top to bottom (default), 'LR' left to right. */
  rankdir?: 'TB' | 'LR' | 'BT' | 'RL';
  /** Draw the layers of nested models inside a dashed cluster (default false: one box per nested model). */
  expandNested?: boolean;
  /** Dots per inch of the picture (default 96). */
  dpi?: number;
}

const RANKDIRS: readonly string[] = ['TB', 'LR', 'BT', 'RL'];

/**
 * The model's graph in Graphviz's DOT language, drawn as Keras's
 * `model_to_dot` draws it: one record box per layer (`name: Class`, the
 * input and output shapes with `showShapes`), an edge per connection, and
 * nested models as dashed clusters with `expandNested`.
 */
export function modelToDot(model: Model, options: PlotModelOptions = {}): string {
  const o: Required<PlotModelOptions> = { showShapes: false, showLayerNames: true, rankdir: 'TB', expandNested: false, dpi: 96, ...options };
  if (!RANKDIRS.includes(o.rankdir)) throw new InvalidArgumentError('plotModel rankdir', `one of ${RANKDIRS.join(', ')}`, o.rankdir);
  if (!(Number.isFinite(o.dpi) && o.dpi > 0)) throw new InvalidArgumentError('plotModel dpi', 'a positive number', o.dpi);
  // DejaVu Sans: Graphviz knows its metrics and the PNG renderer ships it, so the text fits its boxes.
  const lines = [
    'digraph G {',
    `  graph [rankdir=${o.rankdir}, concentrate=true, dpi=${o.dpi}, fontname="DejaVu Sans"];`,
    '  node [shape=record, fontname="DejaVu Sans"];',
  ];
  drawModel(model, '', o, lines, '  ');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Where edges enter and leave a drawn model: a node id per input and per output. */
interface Ports {
  inputs: string[];
  outputs: string[];
}

function drawModel(model: Model, prefix: string, o: Required<PlotModelOptions>, lines: string[], indent: string): Ports {
  const nodes = graphNodes(model);
  const layers = [...new Set([...model.inputs.map((t) => t.node.layer), ...model.layers])];
  const ports = new Map<Layer, Ports>();
  for (const layer of layers) {
    const id = quote(prefix + layer.name);
    if (o.expandNested && layer instanceof Model) {
      lines.push(`${indent}subgraph ${quote(`cluster_${prefix}${layer.name}`)} {`);
      lines.push(`${indent}  graph [style=dashed, label=${quote(layer.name)}, labeljust=l];`);
      ports.set(layer, drawModel(layer, `${prefix}${layer.name}/`, o, lines, `${indent}  `));
      lines.push(`${indent}}`);
    } else {
      lines.push(`${indent}${id} [label=${quote(label(layer, nodes.filter((n) => n.layer === layer), o))}];`);
      ports.set(layer, { inputs: [id], outputs: [id] });
    }
  }
  // One edge per connected pair of boxes (a layer fed twice by another, Add([x, x]) or a shared layer, draws one arrow, as Graphviz's concentrate would).
  const edges = new Set<string>();
  for (const node of nodes)
    node.inputs.forEach((t, i) => edges.add(`${pick(ports.get(t.node.layer)!.outputs, t.index)} -> ${pick(ports.get(node.layer)!.inputs, i)}`));
  for (const edge of edges) lines.push(`${indent}${edge};`);
  return {
    inputs: model.inputs.map((t) => ports.get(t.node.layer)!.inputs[0]),
    outputs: model.outputs.map((t) => pick(ports.get(t.node.layer)!.outputs, t.index)),
  };
}

const pick = (ids: string[], i: number): string => ids[Math.min(i, ids.length - 1)];

/** The calls of layers inside this model (outputs back to inputs), oldest first. */
function graphNodes(model: Model): GraphNode[] {
  const seen = new Set<GraphNode>();
  const visit = (t: SymbolicTensor): void => {
    if (seen.has(t.node)) return;
    seen.add(t.node);
    t.node.inputs.forEach(visit);
  };
  model.outputs.forEach(visit);
  return [...seen].sort((a, b) => a.id - b.id);
}

/** `name: Class`, with Keras's record of input and output shapes; wrappers show their inner layer. */
function label(layer: Layer, nodes: GraphNode[], o: Required<PlotModelOptions>): string {
  let name = layer.name;
  let className = layer.className;
  const inner = layer.config.layer as { class_name?: string; config?: { name?: string } } | undefined;
  if (inner?.class_name) {
    name = `${name}(${inner.config?.name ?? ''})`;
    className = `${className}(${inner.class_name})`;
  }
  const text = o.showLayerNames ? `${name}: ${className}` : className;
  if (!o.showShapes) return text;
  const inputs = shapesOf(nodes.map((n) => (n.inputs.length > 0 ? n.inputs : n.outputs)));
  const outputs = shapesOf(nodes.map((n) => n.outputs));
  return `${text}\\n|{input:|output:}|{{${inputs}}|{${outputs}}}`;
}

/** Keras's `str(layer.input_shape)`: a tuple, a list of tuples for several tensors, 'multiple' when calls differ. */
function shapesOf(perNode: (readonly SymbolicTensor[])[]): string {
  const texts = new Set(perNode.map((ts) => (ts.length === 1 ? pyShape(ts[0].shape) : `[${ts.map((t) => pyShape(t.shape)).join(', ')}]`)));
  return texts.size === 1 ? escapeRecord([...texts][0]) : 'multiple';
}

function pyShape(shape: Shape): string {
  const dims = shape.map((d) => (d === null ? 'None' : String(d)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}

/** Characters with a meaning inside a record label. */
const escapeRecord = (s: string): string => s.replace(/[{}|<>]/g, (c) => `\\${c}`);

function quote(s: string): string {
  return `"${s.replace(/"/g, '\\"')}"`;
}
