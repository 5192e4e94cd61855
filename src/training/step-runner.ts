import { disposeReplaced } from '../core/tree.js';
import type { Compiled } from './compile.js';
import type { Module } from './module.js';
import { runCompiled, testStep, trainStep, type StepResult } from './steps.js';
import type { Batch, TrainState, Variables } from './types.js';

/**
 * Where the loops run their steps: on this thread ({@link localRunner}),
 * or elsewhere (data parallelism's replicas, device placement's devices),
 * which is why both are asynchronous.
 */
export interface StepRunner {
  /** One training step. It takes `ts` over: what the next state does not reuse is disposed. The caller owns the result's tensors. */
  train(ts: TrainState, batch: Batch): Promise<{ state: TrainState; result: StepResult }>;
  /**
   * Optional: the training steps on `batches`, in order, as one call (Keras's
   * steps_per_execution), with each step's result: the same as `train` on
   * each in turn. It takes `ts` over; the caller owns the results' tensors.
   */
  trainSteps?(ts: TrainState, batches: Batch[]): Promise<{ state: TrainState; results: StepResult[] }>;
  /** Losses and predictions in inference mode; `variables` stay the caller's. */
  test(variables: Variables, batch: Batch): Promise<StepResult>;
  /**
   * Optional: while a `train` call runs, the batch the next one will get
   * (the same object; the caller still owns and frees it), so that work on
   * it can start early. The runner must give the same results as without.
   */
  stage?(batch: Batch): void;
  /** Drops a staged batch that will not be trained (the loop stopped before it). */
  unstage?(): Promise<void>;
}

/** The pure steps on this thread ({@link trainStep}, {@link testStep}; compiled when compiled steps are on). */
export function localRunner(module: Module, compiled: Compiled): StepRunner {
  return {
    async train(ts, batch) {
      const r = runCompiled(module, () => trainStep(module, compiled, ts, batch));
      disposeReplaced({ p: ts.params, s: ts.state, o: ts.optState }, { p: r.state.params, s: r.state.state, o: r.state.optState });
      return r;
    },
    async test(variables, batch) {
      return runCompiled(module, () => testStep(module, compiled, variables, batch));
    },
  };
}
