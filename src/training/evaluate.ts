import * as ops from '../ops/index.js';
import type { Dataset, Example } from '../../streams/index.js';
import { datasetSource, tensorSource, type BatchSource } from './batch-source.js';
import type { Compiled } from './compile.js';
import { checkBatchSize, prepareData, type ArrayLike, type DataArg } from './data.js';
import { disposeStepResult, EpochLogs } from './logs.js';
import type { Module } from './module.js';
import { testStep } from './steps.js';
import { runStep } from '../ops/compiled/index.js';
import type { Batch, Logs, Variables } from './types.js';

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
    for (const batch of source.batches(0, 0) as Iterable<Batch>) evaluateBatch(module, compiled, variables, logs, batch);
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

/** Evaluates one epoch of a source; log names get `prefix` (`val_` for validation). */
export async function evaluateSource(module: Module, compiled: Compiled, variables: Variables, source: BatchSource, prefix = ''): Promise<Logs> {
  const logs = new EpochLogs(compiled, module.outputNames);
  for await (const batch of source.batches(0, 0)) evaluateBatch(module, compiled, variables, logs, batch);
  return logs.result(prefix);
}

/** Adds one batch to `logs`, then disposes the batch. */
function evaluateBatch(module: Module, compiled: Compiled, variables: Variables, logs: EpochLogs, batch: Batch): void {
  try {
    const result = runStep(module, `model '${module.name}'`, () => testStep(module, compiled, variables, batch));
    try {
      logs.update(batch, result);
    } finally {
      disposeStepResult(result);
    }
  } finally {
    ops.dispose([...new Set([...batch.x, ...batch.y, ...(batch.sampleWeight ?? []).filter((t): t is ops.Tensor => t !== null)])]);
  }
}
