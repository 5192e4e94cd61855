import type { TensorTree } from '../core/tree.js';
import type { Layer } from './layer.js';
import { isRecurrentLayer } from './rnn-core.js';

/** A layer that holds layers (a nested model): its params and state are keyed by its layers' names. */
export type Container = Layer & { readonly layers: readonly Layer[] };

export function isContainer(layer: Layer): layer is Container {
  return Array.isArray((layer as Partial<Container>).layers);
}

/**
 * The part of a layer's state that is a weight (BatchNormalization's moving
 * statistics). A stateful RNN's carried states are not: Keras neither saves
 * nor counts them.
 */
export function weightState(layer: Layer, state: TensorTree): TensorTree {
  if (isRecurrentLayer(layer)) return {};
  if (!isContainer(layer)) return state;
  const out: TensorTree = {};
  for (const inner of layer.layers) if (state[inner.name]) out[inner.name] = weightState(inner, state[inner.name] as TensorTree);
  return out;
}
