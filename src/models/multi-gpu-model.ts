import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { defer, switchMap, tap, type Observable } from 'rxjs';
import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import { cloneTree, disposeReplaced, shareTree } from '../core/tree.js';
import { Dataset, type Example } from '../../streams/index.js';
import { datasetSource, tensorSource } from '../training/batch-source.js';
import type { Compiled, CompileArgs } from '../training/compile.js';
import { checkBatchSize, dataInputShape, epochBatches, prepareData, sampleCount, takeRows, toTensors, type ArrayLike, type DataArg } from '../training/data.js';
import { evaluateSource, type EvaluateOptions } from '../training/evaluate.js';
import type { Callback, FitEvent, TrainingControl } from '../training/events.js';
import { fitLoop$, type FitData, type FitOptions } from '../training/fit.js';
import { disposeStepResult, EpochLogs } from '../training/logs.js';
import type { PredictOptions } from '../training/predict.js';
import type { StepResult } from '../training/steps.js';
import { commitSetup, requireSetup, startState } from '../training/setup.js';
import type { Batch, Logs, TrainState } from '../training/types.js';
import { batchTensors } from '../training/rows-batch.js';
import { History } from '../callbacks/history.js';
import { DataParallel } from '../parallel/data-parallel.js';
import type { Device } from '../parallel/device.js';
import type { GlooOptions } from '../parallel/gloo-collective.js';
import type { StepPhases } from '../parallel/step-phases.js';
import { firstDevices, getDevice } from '../parallel/devices.js';
import type { Model } from './model.js';
import { fitArgs, fitWithCallbacks } from './fit-args.js';

export interface MultiGpuModelOptions {
  /** Replicas on the first `gpus` devices: the GPUs where there are any, else the CPU worker devices (Keras's `gpus`). */
  gpus?: number;
  /** Replicas on these devices ('/cpu:1', '/gpu:0', ...), one each. */
  devices?: string[];
  /** Modules (paths or URLs) every device imports before building its replica: custom objects the model's config names. */
  setup?: (string | URL)[];
  /** Bound on any wait between replicas inside a step, in ms (default 120 s). */
  timeoutMs?: number;
}

/**
 * Keras's `multi_gpu_model(model, gpus=n)`: a model that trains `model` with
 * one replica per device. Each global batch is split as Keras splits it,
 * each replica computes gradients on its part, the gradients are summed in
 * one all-reduce, and every replica applies the same update, so that a
 * step equals the single-device step on the whole batch. `model` (the
 * template) keeps the trained weights, as Keras recommends saving it.
 */
export function multiGpuModel(model: Model, options: number | MultiGpuModelOptions): ParallelModel {
  const o = typeof options === 'number' ? { gpus: options } : options;
  return new ParallelModel(model, replicaDevices(model, o), o);
}

/** The devices of `model`'s replicas: the first `gpus` (GPUs first, else CPU workers) or those named; checked. */
export function replicaDevices(model: Model, o: Pick<MultiGpuModelOptions, 'gpus' | 'devices'>): Device[] {
  if ((o.gpus === undefined) === (o.devices === undefined)) throw new InvalidArgumentError('multiGpuModel options', 'either gpus (a count) or devices (names)', o);
  const devices = o.devices
    ? o.devices.map((name) => {
        if (name === '/cpu:0') throw new InvalidArgumentError('devices', "worker devices ('/cpu:0' is the main thread, which merges the replicas' results)", name);
        return getDevice(name);
      })
    : firstDevices(o.gpus!);
  if (new Set(devices).size !== devices.length) throw new InvalidArgumentError('devices', 'distinct devices', o.devices);
  // A stateful RNN carries state per sample across batches: it cannot be split over replicas.
  const stateful = model.layers.find((l) => (l.config as { stateful?: unknown }).stateful === true);
  if (stateful) throw new InvalidArgumentError(`layer '${stateful.name}'`, 'no stateful recurrent layer in a data-parallel model', 'stateful: true');
  return devices;
}

/** Starts `template`'s replicas on `devices` with the state `start` (not taken over); `cross` joins them to other processes' replicas. */
export function openReplicas(
  template: Model,
  compiled: Compiled,
  start: TrainState,
  devices: readonly Device[],
  options: Pick<MultiGpuModelOptions, 'setup' | 'timeoutMs'>,
  cross?: GlooOptions,
): Promise<DataParallel> {
  return DataParallel.open(template, compiled, start, {
    devices,
    factory: { url: new URL('./from-config.js', import.meta.url).href, fn: 'modelFromJSON', config: template.toJSON() },
    setup: (options.setup ?? []).map(toUrl),
    timeoutMs: options.timeoutMs,
    cross,
  });
}

/**
 * The template takes copies of a state of the replicas (weights, optimizer
 * state, step); returns the optimizer state it took. `copy` may be
 * shareTree where the state's values are fresh and nobody rewrites them (a
 * data-parallel run's fetched state): handles on them, not copies.
 */
export function commitCopy(template: Model, ts: TrainState, copy: <T>(x: T) => T = cloneTree): unknown {
  const old = template.compiled?.optState;
  template.setVariables({ params: copy(ts.params), state: copy(ts.state) });
  const optState = copy(ts.optState);
  if (template.compiled) template.compiled = commitSetup(template.compiled, { ...ts, optState });
  disposeReplaced(old, optState);
  return optState;
}

/**
 * The model `multiGpuModel` returns: Keras's training methods, run on the
 * replicas. They are asynchronous (the work happens on other threads or
 * processes). The template's weights are written back when a call ends;
 * during a fit the template follows the replicas (Model.follow): reading
 * its weights or setup takes their current state. Events' `train` state is
 * always current.
 */
export class ParallelModel {
  private dp: DataParallel | undefined;
  /** The trainable weights the replicas were started for (freezing a layer changes the fused buffer: new replicas). */
  private trainable = '';
  /** What the replicas were last given or last committed back: when the template moves on, they are sent its state again. */
  private synced: { variables: unknown; optState: unknown } | undefined;

  constructor(
    readonly template: Model,
    readonly devices: readonly Device[],
    private readonly options: MultiGpuModelOptions,
  ) {}

  /** Keras `compile`, on the template. */
  compile(args: CompileArgs, seed?: number): void {
    this.template.compile(args, seed);
  }

  /** Keras `fit` over the replicas; resolves with the History. */
  async fit(x: DataArg, y: DataArg, options?: FitOptions & { callbacks?: Callback[] }): Promise<History>;
  async fit(dataset: Dataset<Example>, options?: FitOptions & { callbacks?: Callback[] }): Promise<History>;
  async fit(...args: unknown[]): Promise<History> {
    const [data, options = {}] = fitArgs(args);
    return fitWithCallbacks(this.train$(data, options), options.callbacks ?? [], options.verbose);
  }

  /** The training event stream of `fit`; subscribe to train, unsubscribe to stop. */
  fit$(x: DataArg, y: DataArg, options?: FitOptions): Observable<FitEvent>;
  fit$(dataset: Dataset<Example>, options?: FitOptions): Observable<FitEvent>;
  fit$(...args: unknown[]): Observable<FitEvent> {
    const [data, options] = fitArgs(args);
    return this.train$(data, options);
  }

  /** Keras `evaluate` with the replicas: each batch split over them. */
  async evaluate(x: DataArg, y: DataArg, options: EvaluateOptions = {}): Promise<Logs> {
    this.buildFor(x);
    const dp = await this.session('evaluate');
    const owned: ops.Tensor[] = [];
    try {
      const d = prepareData(this.template, x, y, options.sampleWeight, owned);
      const source = tensorSource({ x: d.xs, y: d.ys, sampleWeight: d.sw }, checkBatchSize(options.batchSize ?? 32), false);
      return await evaluateSource(this.template, dp.compiled, dp.state(), source, '', dp);
    } finally {
      ops.dispose(owned);
    }
  }

  /** Keras `evaluate` on a Dataset of batched Examples, with the replicas. */
  async evaluateDataset(dataset: Dataset<Example>, options: { steps?: number; prefetch?: number } = {}): Promise<Logs> {
    const dp = await this.session('evaluate');
    const source = datasetSource(dataset, { inputs: this.template.inputNames, outputs: this.template.outputNames }, options);
    try {
      return await evaluateSource(this.template, dp.compiled, dp.state(), source, '', dp);
    } finally {
      await source.close();
    }
  }

  /** Keras `predict` with the replicas: each batch split over them, the outputs concatenated back in order. */
  async predict(x: DataArg, options: PredictOptions = {}): Promise<ops.Tensor | ops.Tensor[]> {
    this.buildFor(x);
    const batchSize = checkBatchSize(options.batchSize ?? 32);
    const dp = await this.session('predict');
    const { tensors, created } = toTensors('x', x, this.template.inputNames);
    try {
      const n = sampleCount([{ argument: 'x', tensors }]);
      return await this.collect(epochBatches(n, batchSize, false, 0), async (idx) => {
        const rows = takeRows(tensors, idx);
        try {
          return await dp.predict(rows);
        } finally {
          ops.dispose(rows);
        }
      });
    } finally {
      ops.dispose(created);
    }
  }

  /** Keras `predict` on a Dataset of batched Examples (targets ignored), with the replicas; batches are pulled one at a time. */
  async predictDataset(dataset: Dataset<Example>, options: { steps?: number; prefetch?: number } = {}): Promise<ops.Tensor | ops.Tensor[]> {
    const dp = await this.session('predict');
    const source = datasetSource(dataset, { inputs: this.template.inputNames, outputs: this.template.outputNames }, { ...options, needTargets: false });
    try {
      return await this.collect(source.batches(0, 0), async (b) => {
        try {
          return await dp.predict(b.x);
        } finally {
          ops.dispose(batchTensors(b));
        }
      });
    } finally {
      await source.close();
    }
  }

  /** Keras `train_on_batch`: one data-parallel step on exactly this batch; its logs. */
  async trainOnBatch(x: DataArg, y: DataArg, options: { sampleWeight?: ArrayLike } = {}): Promise<Logs> {
    return this.onBatch('trainOnBatch', x, y, options.sampleWeight, async (dp, batch) => {
      const { state, result } = await dp.train(dp.state(), batch);
      this.commit(state);
      return result;
    });
  }

  /** Keras `test_on_batch`: loss and metrics of this batch in inference mode, with the replicas. */
  async testOnBatch(x: DataArg, y: DataArg, options: { sampleWeight?: ArrayLike } = {}): Promise<Logs> {
    return this.onBatch('testOnBatch', x, y, options.sampleWeight, (dp, batch) => dp.test(dp.state(), batch));
  }

  /**
   * Where each replica's training steps spent their time since the last
   * call (or since the replicas started), in device order: the gradient
   * graph, the wait for the go-ahead, the exchange with the other replicas
   * and the update (see StepPhases). Empty before the first call that starts them.
   */
  async stepPhases(): Promise<StepPhases[]> {
    return this.dp ? this.dp.phases() : [];
  }

  /** Frees the replicas on the devices; the devices' workers stay up for the next model (a later call here starts new replicas). */
  async close(): Promise<void> {
    const dp = this.dp;
    this.dp = undefined;
    this.synced = undefined;
    await dp?.close();
  }

  /** Ends the replicas and the devices' workers; a fit that is running rejects with a DeviceError ('disposed'). */
  async dispose(): Promise<void> {
    this.dp?.abandon();
    this.dp = undefined;
    this.synced = undefined;
    await Promise.all(this.devices.map((d) => d.dispose()));
  }

  /**
   * The fit loop with the replicas as its runner: it starts from the
   * replicas' state (the template's, sent when it changed), and the
   * template takes the trained state when the loop ends. Meanwhile it
   * follows the loop's state: a read of the template during the fit (a
   * callback's) takes the replicas' current state. Taken at every epoch end
   * instead, the state was fetched and decoded while every replica waited
   * (about 5 ms per epoch for the bench's MLP with Adam; more for larger
   * models), whether or not anything read it.
   */
  private train$(data: FitData, options: FitOptions = {}): Observable<FitEvent> {
    return defer(() => {
      if (!('dataset' in data)) this.buildFor(data.x);
      return this.session('fit');
    }).pipe(
      switchMap((dp) => {
        let control: TrainingControl | undefined;
        return fitLoop$(this.template, dp.compiled, dp.state(), data, options, dp).pipe(
          tap((e) => {
            control = e.control;
            if (e.type === 'fitStart') this.follow(dp, control);
          }),
          tap({ finalize: () => control && this.finish(dp, control.state) }),
        );
      }),
    );
  }

  /**
   * Until the fit ends, the template takes the fit's current state whenever
   * it is read (see Model.follow), and goes on following it; a write to it
   * is overwritten at the next read (control.setWeights is how a callback
   * sets the replicas' weights). After a replica failed it keeps what it has.
   */
  private follow(dp: DataParallel, control: TrainingControl): void {
    this.template.follow(() => {
      if (dp.failed) return;
      this.commit(control.state);
      this.follow(dp, control);
    });
  }

  /** The replicas, started (or restarted, when the compiled setup or the trainable set changed) and given the template's state. */
  private async session(what: string): Promise<DataParallel> {
    const template = this.template;
    const setup = requireSetup(template.compiled, what);
    const { state: start, setup: next } = startState(template, setup, template.build().variables!);
    template.compiled = next;
    if (this.dp && (this.dp.compiled !== next.compiled || this.dp.failed || this.trainable !== next.optPaths)) await this.close();
    const current = { variables: template.variables, optState: next.optState };
    if (!this.dp) {
      this.dp = await openReplicas(template, next.compiled, start, this.devices, this.options);
      this.trainable = next.optPaths;
    } else if (!this.synced || this.synced.variables !== current.variables || this.synced.optState !== current.optState) await this.dp.load(start);
    this.synced = current;
    return this.dp;
  }

  /** The template takes (handles on) a state of the replicas: its weights, optimizer state and step. */
  private commit(ts: TrainState): void {
    // The replicas' state was fetched into fresh tensors, or set by a callback: no memory under it is rewritten.
    const optState = commitCopy(this.template, ts, shareTree);
    this.synced = { variables: this.template.variables, optState };
  }

  /**
   * The commit at the end of a run. A state a callback set last (restored
   * best weights) is not the replicas': it is freed, and the template's is
   * sent to them next time. After a failed run the replicas' state may be
   * gone: the template keeps the state it took last (at the start, or when
   * it was read during the run).
   */
  private finish(dp: DataParallel, ts: TrainState): void {
    this.template.follow(undefined);
    try {
      this.commit(ts);
    } catch {
      // the run's own error is what the caller sees
    }
    if (dp.discard(ts)) this.synced = undefined;
  }

  private async onBatch(what: string, x: DataArg, y: DataArg, sampleWeight: ArrayLike | undefined, run: (dp: DataParallel, batch: Batch) => Promise<StepResult>): Promise<Logs> {
    this.buildFor(x);
    const dp = await this.session(what);
    const owned: ops.Tensor[] = [];
    try {
      const d = prepareData(this.template, x, y, sampleWeight, owned);
      const batch: Batch = { x: d.xs, y: d.ys, sampleWeight: d.sw ? d.ys.map(() => d.sw!) : null };
      const result = await run(dp, batch);
      const logs = new EpochLogs(dp.compiled, this.template.outputNames);
      try {
        logs.update(batch, result);
      } finally {
        disposeStepResult(result);
      }
      return logs.result();
    } finally {
      ops.dispose(owned);
    }
  }

  /** Runs `predictOne` on each item in order and concatenates the outputs. */
  private async collect<T>(items: Iterable<T> | AsyncIterable<T>, predictOne: (item: T) => Promise<ops.Tensor[]>): Promise<ops.Tensor | ops.Tensor[]> {
    const chunks: ops.Tensor[][] = [];
    try {
      for await (const item of items) chunks.push(await predictOne(item));
      if (chunks.length === 0) throw new InvalidArgumentError('data', 'at least one batch to predict', 'none');
      const outputs = chunks[0].map((_, i) => (chunks.length === 1 ? ops.clone(chunks[0][i]) : ops.concat(chunks.map((c) => c[i]), 0)));
      return outputs.length === 1 ? outputs[0] : outputs;
    } finally {
      ops.dispose(chunks.flat());
    }
  }

  private buildFor(x: DataArg): void {
    if (!this.template.built) {
      const shape = dataInputShape(x);
      if (shape) this.template.buildForInput(shape);
    }
  }
}

function toUrl(p: string | URL): string {
  return p instanceof URL ? p.href : /^[a-z]+:\/\//.test(p) ? p : pathToFileURL(path.resolve(p)).href;
}

