import type { TraceNode, TraceValue } from './trace.js';

/** The value `v` is a copy of, through Identity calls (tfjs records one per saved tensor). */
function source(v: TraceValue): TraceValue {
  while (v.node?.kernel === 'Identity') v = v.node.inputs[0];
  return v;
}

/** The x of `step(x)` (ReLU's mask) that `m` is, through a float cast; undefined if `m` is something else. */
function reluMaskOf(m: TraceValue): TraceValue | undefined {
  let v = source(m);
  if (v.node?.kernel === 'Cast' && v.node.inputs[0].dtype === 'float32') v = source(v.node.inputs[0]);
  const step = v.node;
  return step?.kernel === 'Step' && !step.attrs.alpha && v.dtype === 'float32' ? source(step.inputs[0]) : undefined;
}

/** Whether a tfjs Sum call reduces a 4-D tensor over its first three axes to [C] (a bias gradient in NHWC). */
function sumsPerChannel(n: TraceNode): boolean {
  const x = n.inputs[0];
  const axes = [n.attrs.axis].flat().map((a) => ((a as number) < 0 ? (a as number) + 4 : a));
  return x.shape.length === 4 && x.dtype === 'float32' && !n.attrs.keepDims && axes.sort().join() === '0,1,2';
}

/** The calls of a ReLU mask, and copies: dropped once nothing reads them (every other call stays as recorded). */
const COPIES = new Set(['Cast', 'Step', 'Identity']);

/**
 * Rewrites a trace where one lowered call does the work of two recorded ones:
 * - a convolution plus a bias per channel is one Conv with its bias input
 *   (ONNX Runtime fuses only constant biases itself; ours are graph inputs);
 * - with the kernels of rxkeras's addon (`customOps`), a max-pooling gradient
 *   times the ReLU mask of the pooled tensor (tfjs's ReLU gradient is
 *   dy * step(x)) is one MaxPoolGrad with `positive` (the gradient kept only
 *   where the chosen maximum is > 0, the same as the mask there: elsewhere
 *   the pooling gradient is 0). The mask may be of the pooled tensor or of
 *   the ReLU's input. That gradient summed per channel (the bias gradient of
 *   the convolution before) becomes the kernel's second output.
 * Masks and copies left without readers are dropped.
 */
export function fuse(nodes: readonly TraceNode[], outputs: readonly TraceValue[], customOps: boolean): TraceNode[] {
  const readers = (list: readonly TraceNode[]) => {
    const count = new Map<TraceValue, number>();
    for (const n of list) for (const v of n.inputs) count.set(v, (count.get(v) ?? 0) + 1);
    for (const v of outputs) count.set(v, (count.get(v) ?? 0) + 1);
    return count;
  };
  const read = readers(nodes);
  const once = (v: TraceValue) => read.get(v) === 1;
  const replaced = new Map<TraceNode, TraceNode>();
  const dropped = new Set<TraceNode>();
  for (const n of nodes) {
    if (n.kernel === 'Add') {
      for (const [y, bias] of [n.inputs, [...n.inputs].reverse()]) {
        const conv = y.node;
        if (conv?.kernel !== 'Conv2D' || !once(y) || y.dtype !== 'float32' || bias.dtype !== 'float32') continue;
        if (bias.shape.length !== 1 || bias.shape[0] !== y.shape[3] || n.outputs[0].shape.join() !== y.shape.join()) continue;
        const attrs = { ...conv.attrs, activation: 'linear', _present: ['x', 'filter', 'bias'] };
        replaced.set(n, { kernel: 'FusedConv2D', attrs, inputs: [...conv.inputs, bias], outputs: n.outputs, signature: `${conv.signature}+bias` });
        dropped.add(conv);
        break;
      }
      continue;
    }
    if (!customOps) continue;
    if (n.kernel === 'Sum' && n.inputs[0].node && sumsPerChannel(n)) {
      const producer = n.inputs[0].node;
      const grad = replaced.get(producer) ?? producer;
      if (grad.kernel !== 'MaxPoolGrad' || grad.outputs.length !== 1 || dropped.has(producer)) continue;
      replaced.set(producer, { ...grad, outputs: [grad.outputs[0], n.outputs[0]], signature: `${grad.signature}+sums` });
      dropped.add(n);
      continue;
    }
    if (n.kernel !== 'Multiply' || n.outputs[0].dtype !== 'float32') continue;
    for (const [g, m] of [n.inputs, [...n.inputs].reverse()]) {
      const pool = g.node;
      const x = reluMaskOf(m);
      if (pool?.kernel !== 'MaxPoolGrad' || pool.attrs.positive || !once(g) || !x || replaced.has(pool)) continue;
      if (g.shape.join() !== n.outputs[0].shape.join() || m.shape.join() !== g.shape.join()) continue;
      const pooled = source(pool.inputs[1]);
      if (pooled !== x && !(pooled.node?.kernel === 'Relu' && source(pooled.node.inputs[0]) === x)) continue;
      replaced.set(n, { ...pool, attrs: { ...pool.attrs, positive: true }, outputs: n.outputs, signature: `${pool.signature}+positive` });
      dropped.add(pool);
      break;
    }
  }
  if (!replaced.size) return [...nodes];
  const fused = nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
  // Drop the masks and copies that only the rewritten calls read, latest first.
  const left = readers(fused);
  const keep = fused.map(() => true);
  for (let i = fused.length - 1; i >= 0; i--) {
    const n = fused[i];
    if (!COPIES.has(n.kernel) || n.outputs.some((v) => left.get(v))) continue;
    keep[i] = false;
    for (const v of n.inputs) left.set(v, left.get(v)! - 1);
  }
  return fused.filter((_, i) => keep[i]);
}
