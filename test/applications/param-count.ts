/**
 * Parameter counts computed from a model's layer configs and the shapes of
 * their inputs, by Keras's formulas for each layer class with weights: an
 * independent reference for models whose weights are too large to allocate
 * in a test (VGG19's 143M, NASNetLarge's 89M).
 */
import type { Model } from '../../src/models/model.js';
import type { SymbolicTensor } from '../../src/layers/layer.js';

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/** Keras's weight count of one layer on an input of this shape; throws for a class it does not know to have none. */
export function layerParams(className: string, c: Record<string, unknown>, inShape: (number | null)[]): number {
  const cin = inShape[inShape.length - 1] as number;
  const k = c.kernel_size as number[];
  const bias = c.use_bias ? 1 : 0;
  switch (className) {
    case 'Conv2D':
      return prod(k) * cin * (c.filters as number) + bias * (c.filters as number);
    case 'DepthwiseConv2D':
      return prod(k) * cin * (c.depth_multiplier as number) + bias * cin * (c.depth_multiplier as number);
    case 'SeparableConv2D':
      return prod(k) * cin * (c.depth_multiplier as number) + cin * (c.depth_multiplier as number) * (c.filters as number) + bias * (c.filters as number);
    case 'Dense':
      return cin * (c.units as number) + bias * (c.units as number);
    case 'BatchNormalization':
      return cin * (2 + (c.center ? 1 : 0) + (c.scale ? 1 : 0));
    default:
      return 0;
  }
}

/** The model's parameter count by `layerParams`, over each layer's first call. */
export function countFromConfig(model: Model): number {
  const seen = new Set<string>();
  const visited = new Set<unknown>();
  let total = 0;
  const visit = (t: SymbolicTensor) => {
    if (visited.has(t.node)) return;
    visited.add(t.node);
    const layer = t.node.layer;
    for (const i of t.node.inputs) visit(i);
    if (seen.has(layer.name) || t.node.inputs.length === 0) return;
    seen.add(layer.name);
    total += layerParams(layer.className, layer.getConfig(), t.node.inputs[0].shape);
  };
  model.outputs.forEach(visit);
  return total;
}
