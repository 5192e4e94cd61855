import * as ops from '../ops/index.js';
import type { Dataset, Example } from '../../streams/index.js';
import { datasetSource, tensorSource, type BatchSource } from './batch-source.js';
import type { Compiled } from './compile.js';
import { checkBatchSize, prepareData, type ArrayLike, type DataArg } from './data.js';
import { disposeStepResult, EpochLogs } from './logs.js';
import type { Module } from './module.js';
import type { StepRunner } from './step-runner.js';
import { runCompiled, testStep, type StepResult } from './steps.js';
import type { Batch, Logs, Variables } from './types.js';
import { batchTensors } from './rows-batch.js';

export interface EvaluateOptions {
  batchSize?: number;
  sampleWeight?: ArrayLike;
  verbose?: 0 | 1 | 2;
}

/** Keras `evaluate` on arrays: the loss and metrics of `module` with `variables` over the data, in inference mode. */
export function evaluateArrays(module: Module, compiled: Compiled, variables: Variables, x: DataArg, y: DataArg, options: EvaluateOptions = {}): Logs {
  const batchSize = checkBatchSize(options.batchSize ?? 32);
  const owned: ops.Tensor[] = [];
  try {
    const d = prepareData(module, x, y, options.sampleWeight, owned);
    const source = tensorSource({ x: d.xs, y: d.ys, sampleWeight: d.sw }, batchSize, false);
    const logs = new EpochLogs(compiled, module.outputNames);
    for (const batch of source.batches(0, 0) as Iterable<Batch>) {
      let result: StepResult;
      try {
        result = localTest(module, compiled, variables, batch);
      } catch (e) {
        disposeBatch(batch);
        throw e;
      }
      addResult(logs, batch, result);
    }
    return logs.result();
  } finally {
    ops.dispose(owned);
  }
}

/** Keras `evaluate` on a Dataset of batched Examples: one pass, or `steps` batches. */
export async function evaluateDataset(module: Module, compiled: Compiled, variables: Variables, dataset: Dataset<Example>, options: { steps?: number; prefetch?: number } = {}): Promise<Logs> {
  const source = datasetSource(dataset, { inputs: module.inputNames, outputs: module.outputNames }, options);
  try {
    return await evaluateSource(module, compiled, variables, source);
  } finally {
    await source.close();
  }
}

/** Evaluates one epoch of a source, with the runner's test step (this thread's by default); log names get `prefix` (`val_` for validation). */
export async function evaluateSource(module: Module, compiled: Compiled, variables: Variables, source: BatchSource, prefix = '', runner?: StepRunner): Promise<Logs> {
  const logs = new EpochLogs(compiled, module.outputNames);
  for await (const batch of source.batches(0, 0)) {
    let result: StepResult;
    try {
      result = runner ? await runner.test(variables, batch) : localTest(module, compiled, variables, batch);
    } catch (e) {
      disposeBatch(batch);
      throw e;
    }
    addResult(logs, batch, result);
  }
  return logs.result(prefix);
}

/** The test step on this thread (compiled when compiled steps are on). */
function localTest(module: Module, compiled: Compiled, variables: Variables, batch: Batch): StepResult {
  return runCompiled(module, () => testStep(module, compiled, variables, batch));
}

/** Adds one batch's result to `logs`, then disposes both. */
function addResult(logs: EpochLogs, batch: Batch, result: StepResult): void {
  try {
    logs.update(batch, result);
  } finally {
    disposeStepResult(result);
    disposeBatch(batch);
  }
}

/** Disposes a batch's tensors, once each (outputs may share their sample weights). */
function disposeBatch(batch: Batch): void {
  ops.dispose(batchTensors(batch));
}
