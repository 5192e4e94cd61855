import { currentDevice } from './device-scope.js';
import type { GraphNode, Layer, Shape, SymbolicTensor } from './layer.js';

let nextNodeId = 0;

export function isSymbolic(x: unknown): x is SymbolicTensor {
  return typeof x === 'object' && x !== null && (x as SymbolicTensor).symbolic === true;
}

/** Records one call of `layer` on `inputs`, with output shapes from `computeOutputShape`, on the device of the current `onDevice` scope. */
export function symbolicCall(layer: Layer, inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor[] {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  const inShape = Array.isArray(inputs) ? list.map((t) => t.shape) : list[0].shape;
  const outShape = layer.computeOutputShape(inShape);
  const shapes = isShapeList(outShape) ? outShape : [outShape];
  const device = currentDevice();
  const node: GraphNode = { id: nextNodeId++, layer, inputs: list, outputs: [], ...(device === undefined ? {} : { device }) };
  node.outputs = shapes.map((shape, index) => ({ symbolic: true as const, shape, node, index }));
  return node.outputs;
}

/** A source node: an InputLayer's output. */
export function inputNode(layer: Layer, shape: Shape): SymbolicTensor {
  const node: GraphNode = { id: nextNodeId++, layer, inputs: [], outputs: [] };
  node.outputs = [{ symbolic: true, shape, node, index: 0 }];
  return node.outputs[0];
}

export function isShapeList(s: Shape | Shape[]): s is Shape[] {
  return s.length > 0 && Array.isArray(s[0]);
}
