import { defer, switchMap, tap, type Observable } from 'rxjs';
import * as ops from '../ops/index.js';
import { Dataset, type Example } from '../../streams/index.js';
import { tensorSource } from '../training/batch-source.js';
import type { CompileArgs } from '../training/compile.js';
import { checkBatchSize, dataInputShape, prepareData, type DataArg } from '../training/data.js';
import { evaluateSource, type EvaluateOptions } from '../training/evaluate.js';
import type { Callback, FitEvent, TrainingControl } from '../training/events.js';
import { fitLoop$, type FitData, type FitOptions } from '../training/fit.js';
import { commitSetup, requireSetup, startState } from '../training/setup.js';
import type { Shard } from '../training/split-rows.js';
import type { Logs, TrainState } from '../training/types.js';
import { History } from '../callbacks/history.js';
import { InvalidArgumentError } from '../core/errors.js';
import { shareTree } from '../core/tree.js';
import type { Collective } from '../parallel/collective.js';
import type { DataParallel } from '../parallel/data-parallel.js';
import type { Device } from '../parallel/device.js';
import { DistributedStep, type DistributedStepOptions } from '../parallel/distributed-step.js';
import { GlooCollective, type CrossTransport } from '../parallel/gloo-collective.js';
import type { Model } from './model.js';
import { fitArgs, fitWithCallbacks } from './fit-args.js';
import { commitCopy, openReplicas, replicaDevices, type MultiGpuModelOptions } from './multi-gpu-model.js';

/**
 * Options of `distributedModel`. With `gpus` or `devices` (as multiGpuModel's), each process
 * trains on that many worker replicas (processes x replicas; every process must ask for as many).
 */
export interface DistributedModelOptions extends DistributedStepOptions, MultiGpuModelOptions {}

export interface DistributedFitOptions extends FitOptions {
  /** Callbacks on every member: they see the same logs everywhere, so those that steer training (EarlyStopping, ReduceLROnPlateau) decide alike. */
  callbacks?: Callback[];
  /** Callbacks on rank 0 only: those that write (ModelCheckpoint, CSVLogger, TensorBoard). */
  rank0Callbacks?: Callback[];
}

/**
 * Data-parallel training of `model` across the members of `collective`
 * (processes or hosts: `await initDistributed()` in a script that
 * `rxkeras launch` starts), as Horovod's DistributedOptimizer and PyTorch's
 * DDP do: every member runs the same script on the same data.
 */
export function distributedModel(model: Model, collective: Collective, options: DistributedModelOptions = {}): DistributedModel {
  const replicas = options.gpus !== undefined || options.devices !== undefined;
  if (replicas && !(collective instanceof GlooCollective))
    throw new InvalidArgumentError('collective', 'the GlooCollective of initDistributed() (worker replicas join their own Gloo groups)', collective.constructor.name);
  return new DistributedModel(model, collective, options, replicas ? replicaDevices(model, options) : undefined);
}

/**
 * The model `distributedModel` returns. `fit` starts every member from rank
 * 0's weights; from arrays, each member reads only its rows of every global
 * batch (`batchSize` is the global batch, shuffled alike everywhere from
 * the shared key; the validation split is taken before), and each step
 * all-reduces the gradients, so every member ends with the weights of
 * single-process training. A Dataset is taken as this member's shard as it
 * is (`dataset.shard(size, rank)` before batching); every member must then
 * yield the same number of batches per epoch. The progress bar and
 * `rank0Callbacks` run on rank 0 only. `model` holds the trained weights.
 *
 * With `devices`, each fit trains on worker replicas of this process, one
 * per device: the member's rows of every batch are split among them, and
 * their gradients are summed among them and across the processes (see
 * TwoLevelCollective). `model` takes their weights at every epoch's end
 * and at the end of fit. Evaluation and validation run on this thread.
 */
export class DistributedModel {
  constructor(
    readonly model: Model,
    readonly collective: Collective,
    private readonly options: DistributedModelOptions = {},
    readonly devices?: readonly Device[],
  ) {}

  /** The replicas' closing after the last fit on them. */
  private closing: Promise<void> | undefined;

  /** How the last fit's worker replicas all-reduced across the processes (see crossTransport). */
  private replicaTransport: CrossTransport | undefined;

  /**
   * With `devices`: how the last fit's worker replicas all-reduced across
   * the processes ('host memory' where `launch` put every process on this
   * host, 'two tiers' for several hosts of several processes, else 'tcp');
   * undefined before a fit on replicas.
   */
  get crossTransport(): CrossTransport | undefined {
    return this.replicaTransport;
  }

  get rank(): number {
    return this.collective.rank;
  }

  /** Keras `compile`, on the model. */
  compile(args: CompileArgs, seed?: number): void {
    this.model.compile(args, seed);
  }

  /** Keras `fit` across the members; resolves with the History (the same logs on every member). */
  async fit(x: DataArg, y: DataArg, options?: DistributedFitOptions): Promise<History>;
  async fit(dataset: Dataset<Example>, options?: DistributedFitOptions): Promise<History>;
  async fit(...args: unknown[]): Promise<History> {
    const [data, options = {}] = fitArgs(args) as [FitData, DistributedFitOptions | undefined];
    const rank0 = this.rank === 0;
    const callbacks = [...(options.callbacks ?? []), ...(rank0 ? (options.rank0Callbacks ?? []) : [])];
    try {
      return await fitWithCallbacks(this.train$(data, options), callbacks, rank0 ? options.verbose : 0);
    } finally {
      await this.closing;
    }
  }

  /** The training event stream of `fit` on this member; subscribe to train, unsubscribe to stop (every member must). */
  fit$(x: DataArg, y: DataArg, options?: FitOptions): Observable<FitEvent>;
  fit$(dataset: Dataset<Example>, options?: FitOptions): Observable<FitEvent>;
  fit$(...args: unknown[]): Observable<FitEvent> {
    const [data, options] = fitArgs(args);
    return this.train$(data, options);
  }

  /** Keras `evaluate` across the members, each scoring its rows of every batch; the same logs on every member. */
  async evaluate(x: DataArg, y: DataArg, options: EvaluateOptions = {}): Promise<Logs> {
    const model = this.model;
    const setup = requireSetup(model.compiled, 'evaluate');
    this.buildFor(x);
    const owned: ops.Tensor[] = [];
    try {
      const d = prepareData(model, x, y, options.sampleWeight, owned);
      const source = tensorSource({ x: d.xs, y: d.ys, sampleWeight: d.sw }, checkBatchSize(options.batchSize ?? 32), false, this.shard());
      return await evaluateSource(model, setup.compiled, model.variables!, source, '', new DistributedStep(model, setup.compiled, this.collective, this.options));
    } finally {
      ops.dispose(owned);
    }
  }

  /**
   * The fit loop with a DistributedStep as its runner, from rank 0's state;
   * as Model.fit, the model takes every event's state and the last one.
   */
  private train$(data: FitData, options: FitOptions = {}): Observable<FitEvent> {
    const model = this.model;
    return defer(async () => {
      const setup = requireSetup(model.compiled, 'fit');
      if (!('dataset' in data)) this.buildFor(data.x);
      const { state, setup: next } = startState(model, setup, model.build().variables!);
      model.compiled = next;
      const sync = new DistributedStep(model, next.compiled, this.collective, this.options);
      const start = await sync.syncState(state);
      commit(model, start);
      if (!this.devices) return { step: sync, start, replicas: undefined };
      const cross = (this.collective as GlooCollective).subgroupOptions();
      const replicas = await openReplicas(model, next.compiled, start, this.devices, this.options, cross);
      this.replicaTransport = replicas.crossTransport;
      return { step: new DistributedStep(model, next.compiled, this.collective, this.options, replicas), start: replicas.state(), replicas };
    }).pipe(
      switchMap(({ step, start, replicas }) => {
        let control: TrainingControl | undefined;
        return fitLoop$(model, step.compiled, start, data, { ...options, shard: this.shard() }, step).pipe(
          tap((e) => {
            control = e.control;
            if (!replicas) commit(model, e.control.state);
            else if (e.type === 'epochEnd') commitCopy(model, e.train, shareTree);
          }),
          // A state lent from shared memory (the sharded update of a host's processes) is copied when the fit ends.
          tap({ finalize: () => (replicas ? this.finish(replicas, control?.state) : control && (step.lendsState ? commitCopy(model, control.state) : commit(model, control.state))) }),
        );
      }),
    );
  }

  /**
   * The end of a fit on replicas: the model takes (copies of) their last
   * state, unless the run failed (it keeps its last epoch's), and they are
   * closed; `fit` waits for that.
   */
  private finish(replicas: DataParallel, ts: TrainState | undefined): void {
    try {
      if (ts && !replicas.failed) commitCopy(this.model, ts, shareTree);
    } catch {
      // the run's own error is what the caller sees
    }
    if (ts) replicas.discard(ts);
    this.closing = replicas.close();
  }

  private shard(): Shard {
    return { rank: this.collective.rank, size: this.collective.size };
  }

  private buildFor(x: DataArg): void {
    if (!this.model.built) {
      const shape = dataInputShape(x);
      if (shape) this.model.buildForInput(shape);
    }
  }
}

/** The model takes a training state as its weights, optimizer state and step (the loop owns and disposes what it replaced). */
function commit(model: Model, ts: TrainState): void {
  model.variables = { params: ts.params, state: ts.state };
  if (model.compiled) model.compiled = commitSetup(model.compiled, ts);
}
