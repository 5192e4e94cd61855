import type * as ops from '../ops/index.js';
import type { Key } from '../core/rng.js';
import type { TensorTree } from '../core/tree.js';
import type { Compiled } from './compile.js';

/** What a training step folds over: weights, layer state, optimizer state, step count and randomness. */
export interface TrainState {
  params: TensorTree;
  state: TensorTree;
  optState: unknown;
  step: number;
  key: Key;
}

/** A module's weights: trainable params and non-trainable state, keyed by layer name. */
export interface Variables {
  params: TensorTree;
  state: TensorTree;
}

/** One batch: a tensor per model input and per model output; sample weights per output (or none). */
export interface Batch {
  x: ops.Tensor[];
  y: ops.Tensor[];
  sampleWeight?: (ops.Tensor | null)[] | null;
  /**
   * From a sharded source (distributed training on arrays): every member's
   * rows of this global batch, in rank order, as `splitRows` cut it. A
   * distributed step then needs no exchange to learn them.
   */
  memberRows?: number[];
}

/** Keras logs: `loss`, `<metric>`, `<output>_loss`, `val_*`; numbers only. */
export type Logs = Record<string, number>;

/** What `compile` sets up for a model: the configuration, and the optimizer state that persists across `fit` calls. */
export interface TrainingSetup {
  compiled: Compiled;
  optState: unknown;
  /** The trainable paths the optimizer state was made for; a change (freezing a layer) re-initialises it. */
  optPaths: string;
  step: number;
  key: Key;
}
