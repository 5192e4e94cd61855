import type * as ops from '../ops/index.js';
import type { TensorTree } from '../core/tree.js';
import type { BaseLayerConfig, Layer } from '../layers/layer.js';

/**
 * A model as training, io and callbacks see it: a pure Layer over a params
 * tree keyed by layer name, with what the steps and loops need besides
 * `apply`. It holds no weights: the training state is passed in and
 * returned. The Keras facade (`Model`, `Sequential`) implements it; so can
 * any value.
 */
export interface Module extends Layer<BaseLayerConfig, TensorTree, TensorTree> {
  /** Layers in Keras's order; a nested model is a layer with `layers` of its own. */
  readonly layers: readonly Layer[];
  /** Names of the input layers, in input order (the keys of x records). */
  readonly inputNames: string[];
  /** Names of the output layers, in output order (the keys of per-output losses, y records and logs). */
  readonly outputNames: string[];
  /** Paths ('dense/kernel') of the params that training updates. */
  trainablePaths(params: TensorTree): Set<string>;
  /** The weight-regularisation loss of all layers, or null when there is none. */
  regularization(params: TensorTree): ops.Scalar | null;
  /** Params projected back onto the layers' constraints. */
  constrain(params: TensorTree): TensorTree;
}
