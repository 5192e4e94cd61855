import type * as ops from '../ops/index.js';
import type { Key } from '../core/rng.js';
import type { TensorTree } from '../core/tree.js';

/** A shape with the batch dimension (and any unknown one) as null. */
export type Shape = (number | null)[];

/** One shape, or one per input / output for layers with several. */
export type Shapes = Shape | Shape[];

export type Tensors = ops.Tensor | ops.Tensor[];

/** Trainable weights and non-trainable state of one layer, in Keras's weight order. */
export type Weights = Record<string, ops.Tensor>;

export interface ApplyOptions {
  /** Training mode: Dropout drops, BatchNormalization uses batch statistics. */
  training: boolean;
  /** Randomness for this call (Dropout, GaussianNoise); required in training mode by layers that need it. */
  key?: Key;
  /** Masks of the inputs (Embedding with mask_zero, Masking); null where there is none. */
  mask?: ops.Tensor | null | (ops.Tensor | null)[];
  /** Set by a model for layers inside a frozen (trainable = false) model. */
  frozen?: boolean;
}

export interface InitResult<P = Weights, S = Weights> {
  params: P;
  state: S;
  outputShape: Shapes;
}

export interface ApplyResult<S = Weights> {
  outputs: Tensors;
  state: S;
  /** Activity-regularisation terms a model collected from its layers in a training call. */
  losses?: ops.Scalar[];
}

/** Keras's config keys common to every layer. */
export interface BaseLayerConfig {
  name: string;
  trainable: boolean;
  dtype: string;
  batch_input_shape?: Shape;
  [key: string]: unknown;
}

/**
 * A layer is a value: a Keras `class_name`, a decoded Keras `config`, and
 * pure `init` / `apply`. `apply` mutates nothing and retains no tensor;
 * non-trainable state (BatchNormalization's moving averages) is passed in
 * and returned. `trainable` is the one mutable field, as in Keras: models
 * read it when they decide what to update.
 */
export interface Layer<C extends BaseLayerConfig = BaseLayerConfig, P extends TensorTree = Weights, S extends TensorTree = Weights> {
  readonly className: string;
  readonly name: string;
  readonly config: C;
  trainable: boolean;
  /**
   * True for layers that run in inference mode while frozen
   * (BatchNormalization, as ops.keras 2 does).
   */
  readonly inferenceWhenFrozen?: boolean;
  init(key: Key, inputShape: Shapes): InitResult<P, S>;
  apply(params: P, state: S, inputs: Tensors, options: ApplyOptions): ApplyResult<S>;
  computeOutputShape(inputShape: Shapes): Shapes;
  /** Output mask, for layers that make or pass masks (default: none). */
  computeMask?(inputs: Tensors, mask: ApplyOptions['mask']): ops.Tensor | null | (ops.Tensor | null)[];
  /** Weight-regularisation loss (kernel, bias, ...); added to the loss in training only. */
  regularization?(params: P): ops.Scalar | null;
  /** Activity-regularisation loss on this layer's outputs; training only. */
  activityRegularization?(outputs: Tensors): ops.Scalar | null;
  /** Projects params back onto their constraints after an optimizer update. */
  constrain?(params: P): P;
  /** The config as Keras serialises it (with the current `trainable`). */
  getConfig(): C;
  /** The functional API: applies the layer to symbolic tensors (its first output). */
  call(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor;
  /** The functional API for layers with several outputs (an RNN with return_state). */
  callAll(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor[];
}

/**
 * The functional API's graph: a symbolic tensor is the `index`-th output of a
 * node, and a node is one call of a layer on symbolic inputs. A layer called
 * twice (a shared layer) has two nodes and one set of weights.
 */
export interface GraphNode {
  readonly id: number;
  readonly layer: Layer;
  readonly inputs: readonly SymbolicTensor[];
  outputs: SymbolicTensor[];
  /** Where the call runs when it was made inside `onDevice(...)`; undefined: the main thread. */
  readonly device?: string;
}

export interface SymbolicTensor {
  readonly symbolic: true;
  readonly shape: Shape;
  readonly node: GraphNode;
  readonly index: number;
}

/** A serialised layer, as in a Keras model config. */
export interface SerializedLayer {
  class_name: string;
  config?: unknown;
}
