import type { OperatorFunction } from 'rxjs';
import type { TensorTree } from '../core/tree.js';
import type { Compiled } from './compile.js';
import type { Module } from './module.js';
import type { Logs, TrainState } from './types.js';

/** What the fit loop reports once at the start, as Keras's `callback.params`. */
export interface FitParams {
  epochs: number;
  initialEpoch: number;
  /** Batches per epoch; undefined for a stream of unknown length. */
  steps: number | undefined;
  samples: number | undefined;
  batchSize: number | undefined;
  verbose: number;
  metrics: string[];
}

/**
 * The explicit control path from callbacks to the loop. Calls take effect
 * between steps: they act on the loop's training state, never on a model
 * behind the loop's back.
 */
export interface TrainingControl {
  /** The loop's current training state (lent: clone what you keep); after the stream ends, its last state. */
  readonly state: TrainState;
  getLearningRate(): number;
  setLearningRate(lr: number): void;
  /** Replaces the weights the loop trains (restore_best_weights); the loop takes ownership of the tensors. */
  setWeights(params: TensorTree, state: TensorTree): void;
  /**
   * Asks the loop to stop (Keras's `model.stop_training = True`): as in
   * tf.keras 2, it stops after the current step; the epoch still ends
   * (`epochEnd` with its logs and validation), then `fitEnd`, then the stream completes.
   */
  stop(): void;
  readonly stopRequested: boolean;
}

interface Base {
  control: TrainingControl;
}

/**
 * The training event stream. `train` lends the training state: its tensors
 * are valid while the event is handled; a callback that keeps weights clones
 * them. `fitStart` gives the module being trained and its compiled setup
 * (what a checkpoint needs to name and save the state). Epochs are 0-based,
 * as in Keras's callbacks.
 */
export type FitEvent =
  | (Base & { type: 'fitStart'; params: FitParams; module: Module; compiled: Compiled })
  | (Base & { type: 'epochStart'; epoch: number })
  | (Base & { type: 'batchEnd'; epoch: number; batch: number; size: number; logs: Logs; train: TrainState })
  | (Base & { type: 'epochEnd'; epoch: number; logs: Logs; train: TrainState })
  | (Base & { type: 'fitEnd'; logs: Logs; train: TrainState });

/** A callback: an operator on the training event stream. Completing the stream stops training. */
export type Callback = OperatorFunction<FitEvent, FitEvent>;
