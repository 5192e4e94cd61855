import * as ops from '../ops/index.js';
import type { Model } from '../models/model.js';
import type { Compiled } from './compile.js';
import { checkBatchSize, epochBatches, takeRows, type ArrayLike, type DataArg } from './data.js';
import { prepareData, requireSetup } from './fit.js';
import { disposeStepResult, EpochLogs } from './logs.js';
import { testStep } from './steps.js';
import type { Batch, Logs } from './types.js';

export interface EvaluateOptions {
  batchSize?: number;
  sampleWeight?: ArrayLike;
  verbose?: 0 | 1 | 2;
}

/** Keras `evaluate`: the loss and metrics over the data, in inference mode, as a record of logs. */
export function evaluate(model: Model, x: DataArg, y: DataArg, options: EvaluateOptions = {}): Logs {
  const setup = requireSetup(model, 'evaluate');
  const batchSize = checkBatchSize(options.batchSize ?? 32);
  const owned: ops.Tensor[] = [];
  try {
    const d = prepareData(model, x, y, options.sampleWeight, owned);
    model.build();
    const batch: Batch = { x: d.xs, y: d.ys, sampleWeight: d.sw ? d.ys.map(() => d.sw!) : null };
    return evaluateTensors(model, setup.compiled, batch, batchSize);
  } finally {
    ops.dispose(owned);
  }
}

/** Evaluates whole-data tensors batch by batch; logs names get `prefix` (`val_` for validation). */
export function evaluateTensors(model: Model, compiled: Compiled, data: Batch, batchSize: number, prefix = ''): Logs {
  const n = data.x[0].shape[0];
  const logs = new EpochLogs(compiled, model.outputNames);
  const v = model.variables!;
  const sw = data.sampleWeight?.[0] ?? null;
  const parts = [...data.x, ...data.y, ...(sw ? [sw] : [])];
  for (const idx of epochBatches(n, batchSize, false, 0)) {
    const rows = takeRows(parts, idx);
    const batch: Batch = {
      x: rows.slice(0, data.x.length),
      y: rows.slice(data.x.length, data.x.length + data.y.length),
      sampleWeight: sw ? data.y.map(() => rows[rows.length - 1]) : null,
    };
    try {
      const result = testStep(model, compiled, v, batch);
      try {
        logs.update(batch, result);
      } finally {
        disposeStepResult(result);
      }
    } finally {
      ops.dispose(rows);
    }
  }
  return logs.result(prefix);
}
