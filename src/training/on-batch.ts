import * as ops from '../ops/index.js';
import type { Model } from '../models/model.js';
import type { ArrayLike, DataArg } from './data.js';
import { prepareData, requireSetup, startState } from './fit.js';
import { disposeStepResult, EpochLogs } from './logs.js';
import { testStep, trainStep } from './steps.js';
import { disposeReplaced } from '../core/tree.js';
import type { Batch, Logs } from './types.js';

export interface OnBatchOptions {
  sampleWeight?: ArrayLike;
}

/** Keras `train_on_batch`: one optimizer step on exactly this batch; the logs of that batch. */
export function trainOnBatch(model: Model, x: DataArg, y: DataArg, options: OnBatchOptions = {}): Logs {
  return withBatch(model, 'trainOnBatch', x, y, options, (batch) => {
    const setup = requireSetup(model, 'trainOnBatch');
    const v = model.build().variables!;
    const ts = startState(model, setup, v.params, v.state);
    const { state: next, result } = trainStep(model, setup.compiled, ts, batch);
    disposeReplaced({ p: ts.params, s: ts.state, o: ts.optState }, { p: next.params, s: next.state, o: next.optState });
    model.variables = { params: next.params, state: next.state };
    setup.optState = next.optState;
    setup.step = next.step;
    return logsOf(model, batch, result);
  });
}

/** Keras `test_on_batch`: loss and metrics of this batch in inference mode. */
export function testOnBatch(model: Model, x: DataArg, y: DataArg, options: OnBatchOptions = {}): Logs {
  return withBatch(model, 'testOnBatch', x, y, options, (batch) => {
    const setup = requireSetup(model, 'testOnBatch');
    return logsOf(model, batch, testStep(model, setup.compiled, model.build().variables!, batch));
  });
}

function withBatch(model: Model, what: string, x: DataArg, y: DataArg, options: OnBatchOptions, f: (b: Batch) => Logs): Logs {
  requireSetup(model, what);
  const owned: ops.Tensor[] = [];
  try {
    const d = prepareData(model, x, y, options.sampleWeight, owned);
    return f({ x: d.xs, y: d.ys, sampleWeight: d.sw ? d.ys.map(() => d.sw!) : null });
  } finally {
    ops.dispose(owned);
  }
}

function logsOf(model: Model, batch: Batch, result: ReturnType<typeof testStep>): Logs {
  const logs = new EpochLogs(requireSetup(model, 'logs').compiled, model.outputNames);
  try {
    logs.update(batch, result);
    return logs.result();
  } finally {
    disposeStepResult(result);
  }
}
