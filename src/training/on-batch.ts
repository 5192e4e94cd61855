import * as ops from '../ops/index.js';
import { disposeReplaced } from '../core/tree.js';
import type { Compiled } from './compile.js';
import { prepareData, type ArrayLike, type DataArg } from './data.js';
import { disposeStepResult, EpochLogs } from './logs.js';
import type { Module } from './module.js';
import { runCompiled, testStep, trainStep, type StepResult } from './steps.js';
import type { Batch, Logs, TrainState, Variables } from './types.js';

export interface OnBatchOptions {
  sampleWeight?: ArrayLike;
}

/**
 * Keras `train_on_batch`: one step on exactly this batch; the next state
 * and the logs of that batch. The state given is taken over (what the step
 * replaced is disposed).
 */
export function trainOnBatch(module: Module, compiled: Compiled, ts: TrainState, x: DataArg, y: DataArg, options: OnBatchOptions = {}): { state: TrainState; logs: Logs } {
  return withBatch(module, x, y, options, (batch) => {
    const { state: next, result } = runCompiled(module, () => trainStep(module, compiled, ts, batch));
    disposeReplaced({ p: ts.params, s: ts.state, o: ts.optState }, { p: next.params, s: next.state, o: next.optState });
    return { state: next, logs: logsOf(module, compiled, batch, result) };
  });
}

/** Keras `test_on_batch`: loss and metrics of this batch in inference mode. */
export function testOnBatch(module: Module, compiled: Compiled, variables: Variables, x: DataArg, y: DataArg, options: OnBatchOptions = {}): Logs {
  return withBatch(module, x, y, options, (batch) => logsOf(module, compiled, batch, runCompiled(module, () => testStep(module, compiled, variables, batch))));
}

function withBatch<T>(module: Module, x: DataArg, y: DataArg, options: OnBatchOptions, f: (b: Batch) => T): T {
  const owned: ops.Tensor[] = [];
  try {
    const d = prepareData(module, x, y, options.sampleWeight, owned);
    return f({ x: d.xs, y: d.ys, sampleWeight: d.sw ? d.ys.map(() => d.sw!) : null });
  } finally {
    ops.dispose(owned);
  }
}

function logsOf(module: Module, compiled: Compiled, batch: Batch, result: StepResult): Logs {
  const logs = new EpochLogs(compiled, module.outputNames);
  try {
    logs.update(batch, result);
    return logs.result();
  } finally {
    disposeStepResult(result);
  }
}
