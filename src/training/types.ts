import type * as ops from '../ops/index.js';
import type { Key } from '../core/rng.js';
import type { TensorTree } from '../core/tree.js';

/** What a training step folds over: weights, layer state, optimizer state, step count and randomness. */
export interface TrainState {
  params: TensorTree;
  state: TensorTree;
  optState: unknown;
  step: number;
  key: Key;
}

/** One batch: a tensor per model input and per model output; sample weights per output (or none). */
export interface Batch {
  x: ops.Tensor[];
  y: ops.Tensor[];
  sampleWeight?: (ops.Tensor | null)[] | null;
}

/** Keras logs: `loss`, `<metric>`, `<output>_loss`, `val_*`; numbers only. */
export type Logs = Record<string, number>;

/** What `compile` leaves on a model: the configuration, and optimizer state that persists across `fit` calls. */
export interface TrainingSetup {
  compiled: import('./compile.js').Compiled;
  optState: unknown;
  /** The trainable paths the optimizer state was made for; a change (freezing a layer) re-initialises it. */
  optPaths: string;
  step: number;
  key: Key;
}
