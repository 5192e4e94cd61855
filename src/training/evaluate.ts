import * as ops from '../ops/index.js';
import type { Model } from '../models/model.js';
import type { Dataset, Example } from '../../streams/index.js';
import { datasetSource, tensorSource, type BatchSource } from './batch-source.js';
import type { Compiled } from './compile.js';
import { checkBatchSize, type ArrayLike, type DataArg } from './data.js';
import { prepareData, requireSetup } from './fit.js';
import { disposeStepResult, EpochLogs } from './logs.js';
import { testStep } from './steps.js';
import type { Batch, Logs } from './types.js';

export interface EvaluateOptions {
  batchSize?: number;
  sampleWeight?: ArrayLike;
  verbose?: 0 | 1 | 2;
}

/** Keras `evaluate` on arrays: the loss and metrics over the data, in inference mode, as a record of logs. */
export function evaluate(model: Model, x: DataArg, y: DataArg, options: EvaluateOptions = {}): Logs {
  const setup = requireSetup(model, 'evaluate');
  const batchSize = checkBatchSize(options.batchSize ?? 32);
  const owned: ops.Tensor[] = [];
  try {
    const d = prepareData(model, x, y, options.sampleWeight, owned);
    model.build();
    const source = tensorSource({ x: d.xs, y: d.ys, sampleWeight: d.sw }, batchSize, false);
    const logs = new EpochLogs(setup.compiled, model.outputNames);
    for (const batch of source.batches(0, 0) as Iterable<Batch>) evaluateBatch(model, setup.compiled, logs, batch);
    return logs.result();
  } finally {
    ops.dispose(owned);
  }
}

/** Keras `evaluate` on a Dataset of batched Examples: one pass, or `steps` batches. */
export async function evaluateDataset(model: Model, dataset: Dataset<Example>, options: { steps?: number; prefetch?: number } = {}): Promise<Logs> {
  const setup = requireSetup(model, 'evaluate');
  model.build();
  const source = datasetSource(dataset, { inputs: model.inputNames, outputs: model.outputNames }, options);
  try {
    return await evaluateSource(model, setup.compiled, source);
  } finally {
    await source.close();
  }
}

/** Evaluates one epoch of a source; log names get `prefix` (`val_` for validation). */
export async function evaluateSource(model: Model, compiled: Compiled, source: BatchSource, prefix = ''): Promise<Logs> {
  const logs = new EpochLogs(compiled, model.outputNames);
  for await (const batch of source.batches(0, 0)) evaluateBatch(model, compiled, logs, batch);
  return logs.result(prefix);
}

/** Adds one batch to `logs`, then disposes the batch. */
function evaluateBatch(model: Model, compiled: Compiled, logs: EpochLogs, batch: Batch): void {
  try {
    const result = testStep(model, compiled, model.variables!, batch);
    try {
      logs.update(batch, result);
    } finally {
      disposeStepResult(result);
    }
  } finally {
    ops.dispose([...new Set([...batch.x, ...batch.y, ...(batch.sampleWeight ?? []).filter((t): t is ops.Tensor => t !== null)])]);
  }
}
