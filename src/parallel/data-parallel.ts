import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import { disposeReplaced, mapTensors } from '../core/tree.js';
import { serializeLoss, type LossFunction, type LossSpec } from '../losses/index.js';
import {
  getHyperparamValue,
  serializeOptimizer,
  setHyperparam,
  type HyperValue,
  type InjectedState,
  type Optimizer,
  type OptimizerState,
} from '../optimizers/index.js';
import type { Compiled } from '../training/compile.js';
import type { Module } from '../training/module.js';
import type { StepResult } from '../training/steps.js';
import type { StepRunner } from '../training/step-runner.js';
import type { Batch, TrainState, Variables } from '../training/types.js';
import { RemoteError, type Device } from './device.js';
import type { CrossTransport, GlooOptions } from './gloo-collective.js';
import { DeviceGroup } from './device-group.js';
import { DeviceError } from './errors.js';
import { SNAPSHOT_SEQ, SNAPSHOT_STEP, type InitArgs, type InitReply, type ModuleFactory, type StageArgs, type StepArgs, type StepReply, type StepsArgs, type StepsReply, type WireBatch, type WireState, type WireStepResult } from './replica-worker.js';
import { StepGate } from './step-gate.js';
import type { StepPhases } from './step-phases.js';
import { fusedLayout } from './fused-layout.js';
import { splitRows } from '../training/split-rows.js';
import { batchRowCount } from '../training/rows-batch.js';
import { combinedLosses, lossContributions } from '../training/split-losses.js';
import { decodeState, encodeState, type StateLayout } from './state-codec.js';
import { buffersOf, fromWire, wireRows, type WireTensor } from './wire.js';
import { BatchRing, type RingShard } from './batch-ring.js';

const replicaWorker = new URL('./replica-worker.js', import.meta.url);

export interface DataParallelOptions {
  /** The replicas' devices, one replica each, in rank order. */
  devices: readonly Device[];
  /** How each replica builds the module: the facade passes its Keras config reader and the model's config. */
  factory: ModuleFactory;
  /** Module URLs each device imports first (custom objects a model config names). */
  setup?: readonly string[];
  /** Bound on any wait between replicas inside a step, in ms (default 120 s). */
  timeoutMs?: number;
  /**
   * Processes x replicas: the Gloo group options (GlooCollective.subgroupOptions) under which
   * replica r of every process joins the others' replica r (see TwoLevelCollective). Worker threads only.
   */
  cross?: GlooOptions;
}

let nextSession = 0;

/**
 * Data parallelism over devices, for the fit loop and the facade: one
 * replica per device, each global batch split as Keras splits it, the
 * gradients combined in one collective step (see Replica), losses and
 * predictions merged back in order.
 *
 * The training state lives on the replicas. What `train` returns is a lazy
 * TrainState: its tensors are fetched when first read (worker threads
 * write their parts into shared memory while this thread waits; child
 * processes send replica 0's state with each step's answer) and belong to
 * it until the next step. A state that is not the last one returned
 * (weights or a learning rate set by a callback, the first state) is sent
 * to every replica before the step.
 *
 * With worker threads the next batch can be staged (`stage`) while a step
 * runs: the replicas go on to its gradients as soon as they finish the
 * step, and the next `train` on that batch only says go through a shared
 * gate (see StepGate), so that the main thread's share of a step (the
 * answer, the callbacks, the next batch) overlaps the replicas' graphs
 * instead of coming between them. Anything else the run is asked first
 * cancels the staged step, which changed nothing.
 */
export class DataParallel implements StepRunner {
  private readonly session = nextSession++;
  private readonly group: DeviceGroup;
  private readonly layout: StateLayout;
  private readonly snapshot: { data: Float32Array; control: Int32Array } | undefined;
  private readonly optimizer: Optimizer;
  private hyper: Record<string, HyperValue> = {};
  /** The replicas' training state, as a lazy state: what `train` returned last, or a view of what was loaded. */
  private last!: LazyState;
  private failure: Error | undefined;
  private readonly gate: StepGate | undefined;
  /** Where worker threads read their shards (see BatchRing); child processes are sent arrays. */
  private readonly ring: BatchRing | undefined;
  /** The batch staged ahead (the replicas may already be computing its gradients) and its pending answers. */
  private staged: { batch: Batch; seq: number; replies: Promise<unknown[]> } | undefined;
  private stages = 0;
  /** The step the replicas run or ran last: a staged batch is the one after it. */
  private stepNumber = 0;
  /** With processes x replicas: how the replicas' all-reduces cross between the processes (every replica's group says the same). */
  private transport: CrossTransport | undefined;
  /** Settles once the running `train` has sent its step: a stage is sent after it, so that the replicas take the step first. */
  private posting: Promise<void> = Promise.resolve();

  private constructor(
    readonly module: Module,
    readonly compiled: Compiled,
    readonly devices: readonly Device[],
    options: DataParallelOptions,
    start: TrainState,
  ) {
    this.optimizer = compiled.optimizer as Optimizer;
    this.layout = encodeState(start, this.optimizer).layout;
    this.group = new DeviceGroup(devices, { capacity: Math.max(1, fusedLayout(module, start).length), timeoutMs: options.timeoutMs, updateRegions: !options.cross });
    if (this.group.descriptor.kind === 'shared') {
      this.snapshot = { data: new Float32Array(new SharedArrayBuffer(this.layout.length * 4)), control: new Int32Array(new SharedArrayBuffer(8)) };
      this.gate = new StepGate();
      this.ring = new BatchRing();
    }
  }

  /** With processes x replicas: how the replicas' all-reduces cross between the processes. */
  get crossTransport(): CrossTransport | undefined {
    return this.transport;
  }

  /** Starts a replica of `module` with the state `start` (not taken over) on every device. */
  static async open(module: Module, compiled: Compiled, start: TrainState, options: DataParallelOptions): Promise<DataParallel> {
    if (options.devices.length < 1) throw new InvalidArgumentError('devices', 'at least one device', options.devices.length);
    if (options.cross && options.devices.some((d) => d.spec.transport !== 'thread'))
      throw new InvalidArgumentError('devices', 'worker-thread devices for replicas across processes (they reduce in shared memory first)', options.devices.map((d) => d.name));
    const dp = new DataParallel(module, compiled, options.devices, options, start);
    const state = dp.wireState(start);
    const replies = (await dp.all('init', (rank) => ({
      session: dp.session,
      setup: [...(options.setup ?? [])],
      factory: options.factory,
      training: { loss: compiled.losses.map(lossSpec), lossWeights: compiled.lossWeights },
      state,
      group: dp.group.descriptor,
      rank,
      cross: options.cross && { ...options.cross, runId: `${options.cross.runId}.r${rank}` },
      snapshot: dp.snapshot && { data: dp.snapshot.data.buffer as SharedArrayBuffer, control: dp.snapshot.control.buffer as SharedArrayBuffer },
      gate: dp.gate && { buffer: dp.gate.buffer, timeoutMs: options.timeoutMs ?? 120_000 },
    } satisfies InitArgs))) as InitReply[];
    dp.transport = replies[0].cross;
    dp.loaded(start, state);
    return dp;
  }

  /**
   * One data-parallel training step on `batch` (global): takes `ts` over and
   * returns the next state (lazy) and the merged losses and predictions
   * (owned by the caller).
   */
  async train(ts: TrainState, batch: Batch): Promise<{ state: TrainState; result: StepResult }> {
    const { state, result } = await this.trainPart(ts, batch, batchRowCount(batch));
    return { state, result: result! };
  }

  /**
   * As `train`, with `batch` one process's part of a global batch of
   * `globalRows` rows (processes x replicas): each replica's share is its
   * rows over `globalRows`. The result is undefined when `batch` has no rows.
   */
  async trainPart(ts: TrainState, batch: Batch, globalRows: number): Promise<{ state: TrainState; result: StepResult | undefined }> {
    this.check();
    const rows = batchRowCount(batch);
    let replies: StepReply[];
    const staged = this.staged;
    this.stepNumber = ts.step;
    let posted!: () => void;
    this.posting = new Promise((resolve) => (posted = resolve));
    try {
      if (staged?.batch === batch && ts === this.last && rows === globalRows) {
        // Said before anything awaits: the replicas may be waiting for it already.
        this.staged = undefined;
        this.gate!.decide(staged.seq, true);
        posted();
        replies = (await staged.replies) as StepReply[];
      } else {
        await this.takeOver(ts);
        const { shards, transfer, release } = this.shards(batch);
        const eager = !this.snapshot;
        const answers = this.all(
          'step',
          (rank) => ({ session: this.session, shard: shards[rank], globalRows, predictions: this.compiled.metrics.length > 0, snapshot: eager && rank === 0 }) satisfies StepArgs,
          transfer,
          ts.step,
        ).finally(release);
        posted();
        replies = (await answers) as StepReply[];
      }
    } finally {
      posted();
    }
    this.stepped(ts, 1, replies);
    return { state: this.last, result: rows > 0 ? merge(this.compiled, replies.map((r) => r.result), splitRows(rows, this.devices.length), rows) : undefined };
  }

  /**
   * Training steps on `batches` (global), in order, in one call to each
   * replica (Keras's steps_per_execution): the replicas run them back to
   * back, with no message and no word from this thread between the steps.
   * Takes `ts` over; returns the next state (lazy) and each step's merged
   * losses and predictions (the caller's).
   */
  async trainSteps(ts: TrainState, batches: Batch[]): Promise<{ state: TrainState; results: StepResult[] }> {
    this.check();
    await this.takeOver(ts);
    const rows = batches.map(batchRowCount);
    const cut = batches.map((batch) => this.shards(batch));
    const replies = (await this.all(
      'steps',
      (rank) => ({ session: this.session, shards: cut.map((c) => c.shards[rank]), globalRows: rows, predictions: this.compiled.metrics.length > 0, snapshot: !this.snapshot && rank === 0 }) satisfies StepsArgs,
      (rank) => cut.flatMap((c) => c.transfer(rank)),
      ts.step,
    ).finally(() => cut.forEach((c) => c.release()))) as StepsReply[];
    this.stepped(ts, batches.length, replies);
    const results = rows.map((n, i) => merge(this.compiled, replies.map((r) => r.results[i]), splitRows(n, this.devices.length), n));
    return { state: this.last, results };
  }

  /** Cancels a staged step and makes `ts` (taken over) the replicas' state where it is not theirs already. */
  private async takeOver(ts: TrainState): Promise<void> {
    await this.unstage();
    if (ts === this.last) return;
    await this.load(ts);
    disposeReplaced(ts, undefined);
  }

  /** The replicas took `steps` steps from `ts` and answered `replies`: their state is the new last one. */
  private stepped(ts: TrainState, steps: number, replies: { snapshot?: Float32Array; fellBack?: string }[]): void {
    this.last.release();
    this.last = new LazyState(this, ts.step + steps, ts.key, replies[0].snapshot);
    // A worker is quiet: its replica's fallback to eager steps (several times slower) is said here, once per replica.
    for (const [rank, r] of replies.entries())
      if (r.fellBack && !process.env.RXKERAS_QUIET) process.stderr.write(`rxkeras: the replica on ${this.devices[rank].name} runs its steps eagerly: ${r.fellBack}\n`);
  }

  /**
   * Sends `batch` (global) ahead as the next step's, while a `train` call
   * runs (see the class comment); the caller keeps it and passes the same
   * object to the next `train`. Nothing happens with child processes, or
   * while another batch is staged.
   */
  stage(batch: Batch): void {
    if (!this.gate || this.failure || this.staged) return;
    const seq = ++this.stages;
    const rows = batchRowCount(batch);
    const { shards, transfer, release } = this.shards(batch);
    const step = this.stepNumber + 1;
    const replies = this.posting
      .then(() => {
        this.check();
        return this.all(
          'stage',
          (rank) => ({ session: this.session, seq, shard: shards[rank], globalRows: rows, predictions: this.compiled.metrics.length > 0, snapshot: false }) satisfies StageArgs,
          transfer,
          step,
        );
      })
      .finally(release);
    // Its failure fails the run (see `all`) and is thrown by the next call; it must not go unhandled meanwhile.
    replies.catch(() => undefined);
    this.staged = { batch, seq, replies };
  }

  /** Cancels the staged step, if any, and waits until the replicas have dropped it. */
  async unstage(): Promise<void> {
    const staged = this.cancelStaged();
    if (!staged) return;
    await staged.replies.catch(() => undefined);
    this.check();
  }

  /** Says cancel to the staged step without waiting (the replicas take later calls after dropping it). */
  private cancelStaged(): typeof this.staged {
    const staged = this.staged;
    this.staged = undefined;
    staged && this.gate!.decide(staged.seq, false);
    return staged;
  }

  /**
   * Losses and predictions of `batch` in inference mode with the replicas'
   * weights: `variables` must be their state (from `state()` or `train`),
   * or a whole training state, which is loaded first. The result is the caller's.
   */
  async test(variables: Variables, batch: Batch): Promise<StepResult> {
    this.check();
    await this.unstage();
    if (variables !== this.last) {
      if (!('optState' in variables)) throw new InvalidArgumentError('variables', "the data-parallel run's training state (dp.state())", 'other weights');
      await this.load(variables as TrainState);
    }
    const rows = batchRowCount(batch);
    const { shards, transfer, release } = this.shards(batch);
    const results = await this.all('test', (rank) => ({ session: this.session, shard: shards[rank] }), transfer).finally(release);
    return merge(this.compiled, results as (WireStepResult | null)[], splitRows(rows, this.devices.length), rows);
  }

  /** Predictions for `x` (one tensor per input), concatenated in order; owned by the caller. */
  async predict(x: ops.Tensor[]): Promise<ops.Tensor[]> {
    this.check();
    await this.unstage();
    const ranges = splitRows(x[0].shape[0], this.devices.length);
    const parts = x.map((t) => wireRows(t, ranges));
    const results = (await this.all('predict', (rank) => ({ session: this.session, x: parts.map((p) => p[rank]) }), (rank) => buffersOf(parts.map((p) => p[rank])))) as WireTensor[][];
    return concatParts(results.filter((_, rank) => ranges[rank][1] > ranges[rank][0]));
  }

  /** Where each replica's steps spent their time since the last call, in rank order (see StepPhases). */
  async phases(): Promise<StepPhases[]> {
    this.check();
    await this.unstage();
    return (await this.all('phases', () => ({ session: this.session }))) as StepPhases[];
  }

  /** Makes `ts` the replicas' state (weights changed on the main thread between calls); `ts` stays the caller's. */
  async load(ts: TrainState): Promise<void> {
    this.check();
    await this.unstage();
    const state = this.wireState(ts);
    await this.all('load', () => ({ session: this.session, state }));
    this.loaded(ts, state);
  }

  /**
   * Frees a state a loop handed back that is not the replicas' (a callback
   * replaced it, e.g. restoring the best weights): the replicas did not
   * train it, so it is the caller's to load again if wanted.
   */
  discard(ts: TrainState): boolean {
    if (ts === this.last) return false;
    disposeReplaced(ts, undefined);
    this.last.release(); // it may have lent tensors to `ts`
    return true;
  }

  /** The replicas' training state, lazily fetched (see the class comment); valid until the next step or load. */
  state(): TrainState {
    this.check();
    return this.last;
  }

  private loaded(ts: TrainState, state: WireState): void {
    this.last?.release();
    // Child processes cannot be asked synchronously: what they were sent is what they hold.
    this.last = new LazyState(this, ts.step, ts.key, this.snapshot ? undefined : state.data);
  }

  /** Ends the replicas (the devices stay up for the next user) and frees what the last state fetched; later calls reject. */
  async close(): Promise<void> {
    await this.unstage().catch(() => undefined);
    const failed = this.failure !== undefined;
    this.abandon();
    if (!failed) await Promise.allSettled(this.devices.map((d) => d.call(replicaWorker, 'close', { session: this.session })));
  }

  /**
   * Ends this run here without asking the devices anything (they are being
   * disposed): later and pending calls reject with a DeviceError ('disposed').
   */
  abandon(): void {
    this.failure ??= new DeviceError(this.devices[0].name, undefined, 'disposed', 'the data-parallel model was closed');
    this.gate?.abort();
    this.last?.release();
    this.group.close();
  }


  /** The training state of replica 0, as new tensors owned by `lazy`. */
  fetch(lazy: LazyState): TrainState {
    this.check();
    if (lazy !== this.last) throw new InvalidArgumentError('training state', 'the latest state of this data-parallel run (an earlier one was released when the next step ran)', `step ${lazy.step}`);
    let data = lazy.pending;
    let step = lazy.step;
    if (this.snapshot) {
      // A staged step waits for a verdict: cancelled, the replicas take the request after it.
      this.cancelStaged();
      const { control } = this.snapshot;
      const seq = Atomics.load(control, SNAPSHOT_SEQ);
      for (const d of this.devices) d.notify(replicaWorker, 'snapshot', { session: this.session });
      // The devices answer through shared memory while this thread waits: bounded, so a dead device cannot hang it.
      const deadline = Date.now() + 30_000;
      for (let now = seq; now - seq < this.devices.length; now = Atomics.load(control, SNAPSHOT_SEQ)) {
        if (Date.now() > deadline || Atomics.wait(control, SNAPSHOT_SEQ, now, Math.max(1, deadline - Date.now())) === 'timed-out') {
          const error = new DeviceError(this.devices[0].name, lazy.step, 'timeout', 'the replicas did not send their training state within 30 s');
          void this.fail(error);
          throw error;
        }
      }
      data = this.snapshot.data;
      step = Atomics.load(control, SNAPSHOT_STEP);
    }
    if (!data) throw new DeviceError(this.devices[0].name, lazy.step, 'threw', 'no training state came back from the step');
    const ts = decodeState(this.layout, data, this.optimizer, (p) => this.module.trainablePaths(p), step, lazy.key);
    let optState = ts.optState as InjectedState;
    for (const [name, value] of Object.entries(this.hyper)) optState = setHyperparam(optState, name, value);
    // The first read may come inside a tidy scope (a test step reading `variables.params`): the state outlives it.
    return mapTensors({ ...ts, optState }, ops.keep);
  }

  private wireState(ts: TrainState): WireState {
    const { layout, data } = encodeState(ts, this.optimizer);
    if (layout.length !== this.layout.length) throw new InvalidArgumentError('training state', `${this.layout.length} values (the layout this run started with)`, layout.length);
    const opt = ts.optState as InjectedState;
    this.hyper = Object.fromEntries(Object.keys(opt.hyperparams).map((name) => {
      const v = getHyperparamValue(opt, name);
      return [name, v instanceof ops.Tensor ? v.dataSync()[0] : v];
    }));
    return { layout, data, step: ts.step, key: ts.key, optimizer: serializeOptimizer(this.optimizer, ts.optState as OptimizerState) };
  }

  /**
   * The global batch cut into the replicas' shards: in a slot of the batch
   * ring (worker threads), else as arrays to transfer. `release` once the
   * call that sends them has settled.
   */
  private shards(batch: Batch): { shards: (WireBatch | RingShard)[]; transfer: (rank: number) => ArrayBuffer[]; release: () => void } {
    const ranges = splitRows(batchRowCount(batch), this.devices.length);
    const written = this.ring?.write(batch, ranges);
    if (written) return { ...written, transfer: () => [] };
    const x = batch.x.map((t) => wireRows(t, ranges));
    const y = batch.y.map((t) => wireRows(t, ranges));
    const sw = batch.sampleWeight?.map((t) => (t ? wireRows(t, ranges) : null));
    const shards = ranges.map((_, rank) => ({
      x: x.map((p) => p[rank]),
      y: y.map((p) => p[rank]),
      sampleWeight: sw ? sw.map((p) => (p ? p[rank] : null)) : null,
    }));
    return { shards, transfer: (rank) => buffersOfBatch(shards[rank]), release: () => {} };
  }

  /**
   * Calls `fn` on every replica and waits for all. A failure fails the whole
   * group at once (the others' collective waits end), and the error that
   * caused it (not the others' collective errors) is thrown; the devices are
   * then ended so that nothing is left half-way.
   */
  private async all(fn: string, args: (rank: number) => unknown, transfer?: (rank: number) => ArrayBuffer[], step?: number): Promise<unknown[]> {
    const calls = this.devices.map((d, rank) =>
      d.call(replicaWorker, fn, args(rank), { transfer: transfer?.(rank), step }).catch((error: unknown) => {
        this.group.abort(rank, `member ${rank} (${d.name}) failed`);
        throw error;
      }),
    );
    const settled = await Promise.allSettled(calls);
    const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
    if (errors.length === 0) return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value);
    const cause = errors.find((e) => !isCollateral(e)) ?? errors[0];
    await this.fail(cause);
    throw cause;
  }

  /** Records the run's failure and ends the devices' workers (nothing is left half-way); resolves once they are gone. */
  private fail(error: Error): Promise<unknown> {
    this.failure ??= error;
    this.gate?.abort();
    this.group.close();
    this.last?.release(); // undefined when `open` failed
    return Promise.allSettled(this.devices.map((d) => d.dispose()));
  }

  /** Whether a replica failed: the run is over (its devices were ended). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}

/**
 * The lazy training state `DataParallel.train` returns: tensors are fetched
 * on first read. Its only own enumerable properties are the TrainState's
 * (the rest is #private), so a spread copy (`{ ...ts, optState }`, a
 * callback setting the learning rate) is a plain training state.
 */
class LazyState implements TrainState {
  readonly #owner: DataParallel;
  #cached: TrainState | undefined;
  /** The state's values when they came with a child process's answer (no shared memory to fetch them from). */
  #pending: Float32Array | undefined;
  declare readonly params: TrainState['params'];
  declare readonly state: TrainState['state'];
  declare readonly optState: unknown;

  constructor(
    owner: DataParallel,
    readonly step: number,
    readonly key: number,
    pending: Float32Array | undefined,
  ) {
    this.#owner = owner;
    this.#pending = pending;
    for (const name of ['params', 'state', 'optState'] as const)
      Object.defineProperty(this, name, { enumerable: true, get: () => this.materialize()[name] });
  }

  get pending(): Float32Array | undefined {
    return this.#pending;
  }

  private materialize(): TrainState {
    this.#cached ??= this.#owner.fetch(this);
    return this.#cached;
  }

  /** Frees the fetched tensors (the state was replaced). */
  release(): void {
    if (this.#cached) disposeReplaced(this.#cached, undefined);
    this.#cached = undefined;
    this.#pending = undefined;
  }
}

/** An error a replica got only because another one failed first (its collective was aborted). */
function isCollateral(e: Error): boolean {
  return e instanceof DeviceError && e.cause instanceof RemoteError && COLLECTIVE_ERRORS.has(e.cause.remoteName);
}

const COLLECTIVE_ERRORS = new Set(['CollectiveError', 'LostRankError', 'CollectiveTimeoutError', 'CollectiveClosedError']);

function lossSpec(loss: LossFunction): LossSpec {
  // A custom function travels by name: a setup module registers it on the devices.
  return loss.className === 'LossFunctionWrapper' ? loss.name : serializeLoss(loss);
}

/** Rows `[start, end)` of `t` for each range, as plain arrays this side owns. */
function buffersOfBatch(b: WireBatch): ArrayBuffer[] {
  return buffersOf([...b.x, ...b.y, ...(b.sampleWeight ?? []).filter((t): t is WireTensor => t !== null)]);
}

/** The global batch's losses (see split-losses.ts: averaged ones weighted by each shard's share, summed ones added up) and predictions (concatenated in order; none when the replicas sent none). */
function merge(compiled: Compiled, results: (WireStepResult | null)[], ranges: [number, number][], rows: number): StepResult {
  const parts = results.flatMap((r, rank) => (r ? [{ r, share: (ranges[rank][1] - ranges[rank][0]) / rows }] : []));
  const sums = parts.map((p) => lossContributions(compiled, p.r.loss, p.r.outputLosses, { mean: p.share, sum: 1 })).reduce((a, b) => a.map((v, i) => v + b[i]));
  const { loss, outputLosses } = combinedLosses(compiled, sums, 1);
  return { loss: ops.scalar(loss), outputLosses: outputLosses.map((l) => ops.scalar(l)), predictions: concatParts(parts.map((p) => p.r.predictions)) };
}

/** Per output, the replicas' parts concatenated along the batch axis. */
function concatParts(parts: WireTensor[][]): ops.Tensor[] {
  return parts[0].map((_, i) =>
    ops.tidy(() => {
      const pieces = parts.map((p) => fromWire(p[i]));
      return pieces.length === 1 ? pieces[0] : ops.concat(pieces, 0);
    }),
  );
}
