import { Observable } from 'rxjs';
import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import { disposeReplaced } from '../core/tree.js';
import { classWeightsToSampleWeights } from '../losses/index.js';
import { getLearningRate, setLearningRate, type OptimizerState } from '../optimizers/index.js';
import { Dataset, type Example } from '../../streams/index.js';
import { datasetSource, tensorSource, type BatchSource } from './batch-source.js';
import type { Compiled } from './compile.js';
import { checkBatchSize, prepareData, validationSplitAt, type ArrayLike, type DataArg } from './data.js';
import { evaluateSource } from './evaluate.js';
import type { FitEvent, FitParams, TrainingControl } from './events.js';
import { disposeStepResult, EpochLogs } from './logs.js';
import type { StepResult } from './steps.js';
import type { Module } from './module.js';
import { localRunner, type StepRunner } from './step-runner.js';
import type { Shard } from './split-rows.js';
import { releaseCompiledSessions } from '../ops/compiled/index.js';
import type { Batch, Logs, TrainState } from './types.js';
import { batchTensors } from './rows-batch.js';
export interface FitOptions {
  batchSize?: number;
  epochs?: number;
  verbose?: 0 | 1 | 2;
  /** The last fraction of the samples, taken before shuffling, the same every epoch (arrays only). */
  validationSplit?: number;
  /** Arrays `[x, y]` / `[x, y, sampleWeight]`, or a Dataset of batched Examples. */
  validationData?: [DataArg, DataArg] | [DataArg, DataArg, ArrayLike] | Dataset<Example>;
  validationBatchSize?: number;
  /** Batches of `validationData` (a Dataset) to evaluate per epoch; default a whole pass. */
  validationSteps?: number;
  /** Reshuffle the training samples every epoch (default true; arrays only: a Dataset shuffles with its own operator). */
  shuffle?: boolean;
  classWeight?: Record<number, number>;
  sampleWeight?: ArrayLike;
  initialEpoch?: number;
  /** Batches per epoch when training from a Dataset (Keras's steps_per_epoch); default a whole pass. */
  stepsPerEpoch?: number;
  /** Batches a Dataset source is asked for ahead of the step (default 2); memory is bounded by it. */
  prefetch?: number;
  /**
   * Distributed training (set by `distributedModel`): from arrays, this
   * member takes only its rows of every global batch, training and
   * validation alike (the validation split is taken before); a Dataset is
   * taken as this member's shard as it is. The runner combines the members' rows.
   */
  shard?: Shard;
}

/** What `fit` trains on: arrays (x, y) or a Dataset of batched Examples. */
export type FitData = { x: DataArg; y: DataArg } | { dataset: Dataset<Example> };

/**
 * Keras `fit` as a cold stream of training events, over a module and an
 * explicit training state: subscribing trains, unsubscribing stops between
 * steps. The loop folds the runner's training step (`trainStep` on this
 * thread by default) over the batches, epoch after epoch; it writes into no
 * model. Every event lends the loop's current
 * state (`train` on batch and epoch ends and on `fitEnd`, `control.state`
 * always); whoever holds the weights (the Keras facade) commits it.
 *
 * Ownership: the loop takes `start` over. It disposes every state it
 * replaces; the current state is never disposed by the loop, so after the
 * stream ends (completed, failed or unsubscribed) `control.state` is the
 * last state, owned by the caller.
 */
export function fitLoop$(
  module: Module,
  compiled: Compiled,
  start: TrainState,
  data: FitData,
  options: FitOptions = {},
  runner: StepRunner = localRunner(module, compiled),
): Observable<FitEvent> {
  return new Observable<FitEvent>((subscriber) => {
    const owned: ops.Tensor[] = [];
    const sources: BatchSource[] = [];
    const run = async () => {
      const epochs = options.epochs ?? 1;
      const initialEpoch = options.initialEpoch ?? 0;
      if (!Number.isInteger(epochs) || epochs < 0) throw new InvalidArgumentError('epochs', 'an integer >= 0', epochs);
      if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new InvalidArgumentError('initialEpoch', 'an integer >= 0', initialEpoch);
      const { train, validation, batchSize } = planSources(module, data, options, owned);
      sources.push(train, ...(validation ? [validation] : []));

      let ts: TrainState = start;
      let stopRequested = false;
      const control: TrainingControl = {
        get state() {
          return ts;
        },
        getLearningRate: () => getLearningRate(ts.optState as OptimizerState),
        // The returned state takes over the old one's tensors (see setLearningRate).
        setLearningRate: (lr) => void (ts = { ...ts, optState: setLearningRate(ts.optState as OptimizerState, lr) }),
        setWeights: (params, state) => {
          disposeReplaced({ p: ts.params, s: ts.state }, { p: params, s: state });
          ts = { ...ts, params, state };
        },
        stop: () => void (stopRequested = true),
        get stopRequested() {
          return stopRequested;
        },
      };
      const params: FitParams = {
        epochs, initialEpoch, steps: train.steps, samples: train.samples, batchSize, verbose: options.verbose ?? 1,
        metrics: logNames(module, compiled, validation !== undefined),
      };
      subscriber.next({ type: 'fitStart', params, module, compiled, control });
      /** An epoch's batches one step at a time, the next batch staged while a step runs; the batches trained. */
      const trainEach = async (epoch: number, epochLogs: EpochLogs, batches: Pull): Promise<number> => {
        let b = 0;
        let current = await batches.next();
        let upcoming: Pulled | undefined;
        try {
          while (current) {
            if (subscriber.closed) return b;
            let size: number;
            let pullFailed: { error: unknown } | undefined;
            try {
              const stepping = runner.train(ts, current.weighted);
              if (runner.stage) {
                // The next batch is pulled and staged while this step runs (see StepRunner.stage); a failure to pull it comes after this batch's end.
                stepping.catch(() => undefined);
                pullFailed = await failureOf(async () => {
                  upcoming = await batches.next();
                  if (upcoming) runner.stage!(upcoming.weighted);
                });
              }
              const { state: next, result } = await stepping;
              ts = next;
              try {
                size = epochLogs.update(current.weighted, result);
              } finally {
                disposeStepResult(result);
              }
            } finally {
              disposePulled(current);
              current = undefined;
            }
            subscriber.next({ type: 'batchEnd', epoch, batch: b, size, logs: epochLogs.result(), train: ts, control });
            b++;
            if (pullFailed) throw pullFailed.error;
            if (stopRequested) break; // tf.keras 2 checks stop_training after every batch
            await yieldToEventLoop();
            current = runner.stage ? upcoming : await batches.next();
            upcoming = undefined;
          }
        } finally {
          // A batch pulled but not trained (the loop stopped, failed or was unsubscribed) may be staged: the runner drops it.
          const left = [current, upcoming].filter((p): p is Pulled => p !== undefined);
          if (left.length > 0) await runner.unstage?.().catch(() => undefined); // the run's own error, if any, is already on its way
          left.forEach(disposePulled);
          await batches.close();
        }
        return b;
      };
      /** Keras's steps_per_execution: the runner takes up to N batches at once, and the batch events come once per run; the batches trained. */
      const trainInGroups = async (epoch: number, epochLogs: EpochLogs, batches: Pull): Promise<number> => {
        let b = 0;
        const group: Pulled[] = [];
        try {
          for (;;) {
            if (subscriber.closed) return b;
            // A failure to pull a batch comes after the batches pulled before it have trained, as one step at a time.
            const pullFailed = await failureOf(async () => {
              for (let p: Pulled | undefined; group.length < compiled.stepsPerExecution && (p = await batches.next()); ) group.push(p);
            });
            if (group.length === 0) {
              if (pullFailed) throw pullFailed.error;
              break;
            }
            const weighted = group.map((p) => p.weighted);
            let size = 0;
            // Each step's result goes into the epoch logs with its own batch (`from` is the first's index in the group).
            const logged = (results: StepResult[], from: number) => {
              try {
                results.forEach((result, i) => (size = epochLogs.update(weighted[from + i], result)));
              } finally {
                results.forEach(disposeStepResult);
              }
            };
            if (runner.trainSteps) {
              const r = await runner.trainSteps(ts, weighted);
              ts = r.state;
              logged(r.results, 0);
            } else
              for (const [i, batch] of weighted.entries()) {
                const r = await runner.train(ts, batch);
                ts = r.state;
                logged([r.result], i);
              }
            b += group.length;
            group.splice(0).forEach(disposePulled);
            subscriber.next({ type: 'batchEnd', epoch, batch: b - 1, size, logs: epochLogs.result(), train: ts, control });
            if (pullFailed) throw pullFailed.error;
            if (stopRequested) break;
            await yieldToEventLoop();
          }
        } finally {
          group.forEach(disposePulled);
          await batches.close();
        }
        return b;
      };
      let logs: Logs = {};
      for (let epoch = initialEpoch; epoch < epochs && !subscriber.closed && !stopRequested; epoch++) {
        subscriber.next({ type: 'epochStart', epoch, control });
        const epochLogs = new EpochLogs(compiled, module.outputNames);
        const batches = new Pull(train.batches(epoch, ts.key), options.classWeight);
        const b = await (compiled.stepsPerExecution > 1 ? trainInGroups : trainEach)(epoch, epochLogs, batches);
        if (subscriber.closed) return;
        if (b === 0) throw new InvalidArgumentError('training data', 'at least one batch per epoch', 'an empty epoch');
        logs = epochLogs.result();
        if (validation) Object.assign(logs, await evaluateSource(module, compiled, ts, validation, 'val_', runner));
        if (subscriber.closed) return;
        subscriber.next({ type: 'epochEnd', epoch, logs, train: ts, control });
      }
      if (subscriber.closed) return;
      subscriber.next({ type: 'fitEnd', logs, train: ts, control });
    };
    // Everything the loop holds is freed before the stream completes or fails.
    const release = async () => {
      try {
        await Promise.all(sources.map((s) => s.close()));
      } finally {
        ops.dispose(owned);
        releaseCompiledSessions();
      }
    };
    run().then(
      () => release().then(() => subscriber.complete(), (error) => subscriber.error(error)),
      (error) => release().then(() => subscriber.error(error), () => subscriber.error(error)),
    );
  });
}

/** The training and validation sources of a fit call; arrays are converted and checked first. */
function planSources(module: Module, data: FitData, options: FitOptions, owned: ops.Tensor[]): { train: BatchSource; validation?: BatchSource; batchSize?: number } {
  const names = () => ({ inputs: module.inputNames, outputs: module.outputNames });
  const split = options.validationSplit ?? 0;
  if (!(split >= 0 && split < 1)) throw new InvalidArgumentError('validationSplit', 'a number in [0, 1)', split);
  const shard = options.shard;
  if (shard && !(Number.isInteger(shard.size) && shard.size >= 1 && Number.isInteger(shard.rank) && shard.rank >= 0 && shard.rank < shard.size))
    throw new InvalidArgumentError('shard', 'integers { rank, size } with 0 <= rank < size', shard);
  let validation: BatchSource | undefined;
  const vd = options.validationData;
  const validationFromData = () => {
    if (vd === undefined) return undefined;
    if (vd instanceof Dataset) return datasetSource(vd, names(), { steps: options.validationSteps, prefetch: options.prefetch });
    const [vx, vy, vsw] = vd;
    const v = prepareData(module, vx, vy, vsw, owned);
    return tensorSource({ x: v.xs, y: v.ys, sampleWeight: v.sw }, checkBatchSize(options.validationBatchSize ?? options.batchSize ?? 32), false, shard);
  };
  if ('dataset' in data) {
    if (split > 0) throw new InvalidArgumentError('validationSplit', 'arrays (for a Dataset, split it with splitValidation from rxkeras/streams)', split);
    return { train: datasetSource(data.dataset, names(), { steps: options.stepsPerEpoch, prefetch: options.prefetch }), validation: validationFromData() };
  }
  const batchSize = checkBatchSize(options.batchSize ?? 32);
  const d = prepareData(module, data.x, data.y, options.sampleWeight, owned);
  const trainN = split > 0 ? validationSplitAt(d.n, split) : d.n;
  const all = { x: d.xs, y: d.ys, sampleWeight: d.sw };
  let train = all;
  if (trainN < d.n) {
    // Keras: the last `split` of the samples, before shuffling, the same every epoch.
    const part = (start: number, size: number) => {
      const slice = (t: ops.Tensor) => ops.slice(t, [start], [size]);
      const p = { x: all.x.map(slice), y: all.y.map(slice), sampleWeight: all.sampleWeight && slice(all.sampleWeight) };
      owned.push(...p.x, ...p.y, ...(p.sampleWeight ? [p.sampleWeight] : []));
      return p;
    };
    train = part(0, trainN);
    validation = tensorSource(part(trainN, d.n - trainN), checkBatchSize(options.validationBatchSize ?? batchSize), false, shard);
  } else validation = validationFromData();
  return { train: tensorSource(train, batchSize, options.shuffle ?? true, shard), validation, batchSize };
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

/** A batch as the source gave it, and with the class weights folded into its sample weights. */
interface Pulled {
  batch: Batch;
  weighted: Batch;
}

/** An epoch's batches, pulled one at a time (the loop may pull one ahead); `close` ends a pass left unfinished. */
class Pull {
  private readonly iterator: AsyncIterator<Batch> | Iterator<Batch>;
  private done = false;

  constructor(
    source: AsyncIterable<Batch> | Iterable<Batch>,
    private readonly classWeight: Record<number, number> | undefined,
  ) {
    this.iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  }

  async next(): Promise<Pulled | undefined> {
    if (this.done) return undefined;
    const r = await this.iterator.next();
    if (r.done) {
      this.done = true;
      return undefined;
    }
    return { batch: r.value, weighted: withClassWeights(r.value, this.classWeight) };
  }

  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.iterator.return?.();
  }
}

function disposePulled({ batch, weighted }: Pulled): void {
  ops.dispose([...new Set([...batchTensors(batch), ...(weighted === batch ? [] : batchTensors(weighted))])]);
}

function logNames(module: Module, compiled: Compiled, withValidation: boolean): string[] {
  const names = ['loss', ...(module.outputNames.length > 1 ? module.outputNames.map((n) => `${n}_loss`) : []), ...compiled.metrics.map((m) => m.name)];
  return withValidation ? [...names, ...names.map((n) => `val_${n}`)] : names;
}

/** Lets timers, I/O and unsubscriptions run between steps. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs `f`; what it threw, held for later (a failed pull is thrown once the batches pulled before it have trained). */
async function failureOf(f: () => Promise<void>): Promise<{ error: unknown } | undefined> {
  try {
    await f();
    return undefined;
  } catch (error) {
    return { error };
  }
}
