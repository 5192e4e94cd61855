import { Observable } from 'rxjs';
import * as ops from '../ops/index.js';
import { InvalidArgumentError, NotCompiledError } from '../core/errors.js';
import { foldIn } from '../core/rng.js';
import { disposeReplaced, fromLeaves, leaves, type TensorTree } from '../core/tree.js';
import { classWeightsToSampleWeights } from '../losses/index.js';
import { getLearningRate, setLearningRate, type OptimizerState } from '../optimizers/index.js';
import type { Model } from '../models/model.js';
import { checkBatchSize, epochBatches, sampleCount, takeRows, toTensors, validationSplitAt, type ArrayLike, type DataArg } from './data.js';
import { evaluateTensors } from './evaluate.js';
import type { FitEvent, FitParams, TrainingControl } from './events.js';
import { disposeStepResult, EpochLogs } from './logs.js';
import { trainStep } from './steps.js';
import type { Batch, Logs, TrainingSetup, TrainState } from './types.js';

export interface FitOptions {
  batchSize?: number;
  epochs?: number;
  verbose?: 0 | 1 | 2;
  /** The last fraction of the samples, taken before shuffling, the same every epoch. */
  validationSplit?: number;
  validationData?: [DataArg, DataArg] | [DataArg, DataArg, ArrayLike];
  validationBatchSize?: number;
  /** Reshuffle the training samples every epoch (default true). */
  shuffle?: boolean;
  classWeight?: Record<number, number>;
  sampleWeight?: ArrayLike;
  initialEpoch?: number;
}

/**
 * Keras `fit` as a cold stream of training events: subscribing trains,
 * unsubscribing stops between steps. The model's weights are the loop's
 * latest state after every step.
 */
export function fit$(model: Model, x: DataArg, y: DataArg, options: FitOptions = {}): Observable<FitEvent> {
  return new Observable<FitEvent>((subscriber) => {
    const owned: ops.Tensor[] = [];
    const run = async () => {
      const setup = requireSetup(model, 'fit');
      const batchSize = checkBatchSize(options.batchSize ?? 32);
      const epochs = options.epochs ?? 1;
      const initialEpoch = options.initialEpoch ?? 0;
      if (!Number.isInteger(epochs) || epochs < 0) throw new InvalidArgumentError('epochs', 'an integer >= 0', epochs);
      if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new InvalidArgumentError('initialEpoch', 'an integer >= 0', initialEpoch);
      const split = options.validationSplit ?? 0;
      if (!(split >= 0 && split < 1)) throw new InvalidArgumentError('validationSplit', 'a number in [0, 1)', split);

      const data = prepareData(model, x, y, options.sampleWeight, owned);
      const n = data.n;
      const trainN = split > 0 ? validationSplitAt(n, split) : n;
      const all = [...data.xs, ...data.ys, ...(data.sw ? [data.sw] : [])];
      let train = all;
      let val: ops.Tensor[] | undefined;
      if (trainN < n) {
        train = all.map((t) => ops.slice(t, [0], [trainN]));
        val = all.map((t) => ops.slice(t, [trainN], [n - trainN]));
        owned.push(...train, ...val);
      }
      const nx = data.xs.length;
      const ny = data.ys.length;
      const asBatch = (parts: ops.Tensor[]): Batch => ({
        x: parts.slice(0, nx),
        y: parts.slice(nx, nx + ny),
        sampleWeight: data.sw ? data.ys.map(() => parts[nx + ny]) : null,
      });
      let valBatch: Batch | undefined;
      if (val) valBatch = asBatch(val);
      else if (options.validationData) {
        const [vx, vy, vsw] = options.validationData;
        const v = prepareData(model, vx, vy, vsw, owned);
        valBatch = { x: v.xs, y: v.ys, sampleWeight: v.sw ? v.ys.map(() => v.sw!) : null };
      }

      const v = model.build().variables!;
      const ts0 = startState(model, setup, v.params, v.state);
      let ts: TrainState = ts0;
      let stopRequested = false;
      const commit = (next: TrainState) => {
        ts = next;
        model.variables = { params: ts.params, state: ts.state };
        setup.optState = ts.optState;
        setup.step = ts.step;
      };
      const control: TrainingControl = {
        getLearningRate: () => getLearningRate(ts.optState as OptimizerState),
        setLearningRate: (lr) => {
          const optState = setLearningRate(ts.optState as OptimizerState, lr);
          disposeReplaced(ts.optState, optState);
          commit({ ...ts, optState });
        },
        setWeights: (params, state) => {
          disposeReplaced({ p: ts.params, s: ts.state }, { p: params, s: state });
          commit({ ...ts, params, state });
        },
        stop: () => void (stopRequested = true),
        get stopRequested() {
          return stopRequested;
        },
      };
      const compiled = setup.compiled;
      const steps = Math.ceil(trainN / batchSize);
      const params: FitParams = {
        epochs, initialEpoch, steps, samples: trainN, batchSize, verbose: options.verbose ?? 1,
        metrics: logNames(model, compiled, valBatch !== undefined),
      };
      subscriber.next({ type: 'fitStart', params, model, control });
      let logs: Logs = {};
      for (let epoch = initialEpoch; epoch < epochs && !subscriber.closed && !stopRequested; epoch++) {
        subscriber.next({ type: 'epochStart', epoch, control });
        const epochLogs = new EpochLogs(compiled, model.outputNames);
        const batches = epochBatches(trainN, batchSize, options.shuffle ?? true, foldIn(ts.key, epoch));
        for (let b = 0; b < batches.length; b++) {
          if (subscriber.closed) return;
          const batch = asBatch(takeRows(train, batches[b]));
          const weighted = withClassWeights(batch, options.classWeight);
          try {
            const { state: next, result } = trainStep(model, compiled, ts, weighted);
            disposeReplaced({ p: ts.params, s: ts.state, o: ts.optState }, { p: next.params, s: next.state, o: next.optState });
            commit(next);
            try {
              epochLogs.update(weighted, result);
            } finally {
              disposeStepResult(result);
            }
          } finally {
            disposeBatch(batch, weighted);
          }
          subscriber.next({ type: 'batchEnd', epoch, batch: b, size: batches[b].length, logs: epochLogs.result(), control });
          if (stopRequested) break; // tf.keras 2 checks stop_training after every batch
          await yieldToEventLoop();
        }
        logs = epochLogs.result();
        if (subscriber.closed) return;
        if (valBatch) Object.assign(logs, evaluateTensors(model, compiled, valBatch, options.validationBatchSize ?? batchSize, 'val_'));
        subscriber.next({ type: 'epochEnd', epoch, logs, train: ts, control });
      }
      if (subscriber.closed) return;
      subscriber.next({ type: 'fitEnd', logs, train: ts, control });
      subscriber.complete();
    };
    run().catch((error) => subscriber.error(error));
    return () => ops.dispose(owned);
  });
}

/** The compiled setup, or a NotCompiledError. */
export function requireSetup(model: Model, what: string): TrainingSetup {
  const setup = model.compiled as TrainingSetup | undefined;
  if (!setup) throw new NotCompiledError(what);
  return setup;
}

/** The training state to continue from; the optimizer state is (re)made when the trainable set changed. */
export function startState(model: Model, setup: TrainingSetup, params: TensorTree, state: TensorTree): TrainState {
  const trainable = model.trainablePaths(params);
  const paths = [...trainable].join('|');
  if (setup.optState === undefined || setup.optPaths !== paths) {
    disposeReplaced(setup.optState, undefined);
    setup.optState = setup.compiled.optimizer.init(fromLeaves(leaves(params).filter(([p]) => trainable.has(p))));
    setup.optPaths = paths;
  }
  return { params, state, optState: setup.optState, step: setup.step, key: setup.key };
}

interface PreparedData {
  xs: ops.Tensor[];
  ys: ops.Tensor[];
  sw: ops.Tensor | undefined;
  n: number;
}

/** Converts and checks x, y and sample weights; builds a Sequential model from the data's shape if needed. */
export function prepareData(model: Model, x: DataArg, y: DataArg, sampleWeight: ArrayLike | undefined, owned: ops.Tensor[]): PreparedData {
  if (x === undefined || x === null) throw new InvalidArgumentError('x', 'training data', x);
  if (y === undefined || y === null) throw new InvalidArgumentError('y', 'targets', y);
  const xs = toTensors('x', x, inputNamesOf(model, x));
  owned.push(...xs.created);
  model.buildForInput([null, ...xs.tensors[0].shape.slice(1)]);
  const ys = toTensors('y', y, model.outputNames);
  owned.push(...ys.created);
  const parts = [{ argument: 'x', tensors: xs.tensors }, { argument: 'y', tensors: ys.tensors }];
  let sw: ops.Tensor | undefined;
  if (sampleWeight !== undefined) {
    const s = toTensors('sampleWeight', sampleWeight, ['sampleWeight']);
    owned.push(...s.created);
    sw = s.tensors[0];
    if (sw.rank !== 1) throw new InvalidArgumentError('sampleWeight', 'a 1D array (one weight per sample)', sw.shape);
    parts.push({ argument: 'sampleWeight', tensors: [sw] });
  }
  return { xs: xs.tensors, ys: ys.tensors, sw, n: sampleCount(parts) };
}

function inputNamesOf(model: Model, x: DataArg): string[] {
  try {
    return model.inputNames;
  } catch {
    return Array.isArray(x) && x.every((t) => t instanceof ops.Tensor) && x.length > 1 ? x.map((_, i) => `input_${i}`) : ['input'];
  }
}

function withClassWeights(batch: Batch, classWeight: Record<number, number> | undefined): Batch {
  if (!classWeight) return batch;
  const sampleWeight = batch.y.map((y, i) =>
    ops.tidy(() => {
      const cw = classWeightsToSampleWeights(y, classWeight);
      const sw = batch.sampleWeight?.[i];
      return sw ? ops.mul(cw, sw) : cw;
    }),
  );
  return { ...batch, sampleWeight };
}

function disposeBatch(batch: Batch, weighted: Batch): void {
  ops.dispose([...batch.x, ...batch.y]);
  const sw = new Set([...(batch.sampleWeight ?? []), ...(weighted.sampleWeight ?? [])].filter((t): t is ops.Tensor => t !== null));
  ops.dispose([...sw]);
}

function logNames(model: Model, compiled: TrainingSetup['compiled'], withValidation: boolean): string[] {
  const names = ['loss', ...(model.outputNames.length > 1 ? model.outputNames.map((n) => `${n}_loss`) : []), ...compiled.metrics.map((m) => m.name)];
  return withValidation ? [...names, ...names.map((n) => `val_${n}`)] : names;
}

/** Lets timers, I/O and unsubscriptions run between steps. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
