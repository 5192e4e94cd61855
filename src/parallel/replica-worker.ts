/**
 * The device side of data parallelism: functions the main thread calls on
 * each replica's device (see data-parallel.ts). A session holds one
 * replica: its module, built from its Keras config by a factory the caller
 * names, its optimizer, its training state and its collective.
 */
import * as ops from '../ops/index.js';
import { foldIn } from '../core/rng.js';
import { disposeReplaced, leaves } from '../core/tree.js';
import { getOptimizer, type Optimizer } from '../optimizers/index.js';
import { compile, type CompileArgs, type Compiled } from '../training/compile.js';
import type { Module } from '../training/module.js';
import { predictStep, runCompiled, testStep } from '../training/steps.js';
import { copyRows, fallbackReason, rowsIntoHeap } from '../ops/compiled/index.js';
import type { Batch, TrainState } from '../training/types.js';
import type { DeviceContext, GroupDescriptor } from './device-context.js';
import { GlooCollective, type CrossTransport, type GlooOptions } from './gloo-collective.js';
import { Replica } from './replica.js';
import type { SharedCollective } from './collective.js';
import { StepGate } from './step-gate.js';
import type { StepPhases } from './step-phases.js';
import { importSetupModules } from './setup-modules.js';
import { decodeState, encodeState, writeByName, type StateLayout } from './state-codec.js';
import { TwoLevelCollective } from './two-level-collective.js';
import { fromWire, toWire, type WireTensor } from './wire.js';
import { ringValues, type RingShard, type RingTensor } from './batch-ring.js';

/** Where the module comes from: `fn(config)` exported by the module at `url` (the facade passes its Keras config reader). */
export interface ModuleFactory {
  url: string;
  fn: string;
  config: unknown;
}

/** A training state as it crosses: its layout, its values, its step and key, and the optimizer's Keras config (with the current hyper-parameters). */
export interface WireState {
  layout: StateLayout;
  data: Float32Array;
  step: number;
  key: number;
  optimizer: { class_name: string; config: Record<string, unknown> };
}

export interface InitArgs {
  session: number;
  /** Modules imported first; each may export `customObjects`, which are registered. */
  setup: string[];
  factory: ModuleFactory;
  training: { loss: CompileArgs['loss']; lossWeights?: CompileArgs['lossWeights'] };
  state: WireState;
  group: GroupDescriptor;
  rank: number;
  /** With processes x replicas: this replica's Gloo group across the processes (the replicas of its local rank); `group` is then shared memory. */
  cross?: GlooOptions;
  /** Shared memory the replica writes its state into when asked (worker threads); else `snapshot` returns it. */
  snapshot?: { data: SharedArrayBuffer; control: SharedArrayBuffer };
  /** The main thread's verdicts on staged steps (worker threads), and the bound on waiting for one. */
  gate?: { buffer: SharedArrayBuffer; timeoutMs: number };
}

/** A shard as it crosses: one tensor per input and per output, sample weights per output. */
export interface WireBatch {
  x: WireTensor[];
  y: WireTensor[];
  sampleWeight?: (WireTensor | null)[] | null;
}

export interface WireStepResult {
  loss: number;
  outputLosses: number[];
  predictions: WireTensor[];
}

interface Session {
  module: Module;
  compiled: Compiled;
  optimizer: Optimizer;
  replica: Replica;
  rank: number;
  layout: StateLayout;
  snapshot?: { data: Float32Array; control: Int32Array };
  gate?: { gate: StepGate; timeoutMs: number };
  /** The fallback to eager steps was told to the main thread. */
  toldFallback?: boolean;
  /** The memory of the main thread's batch-ring slots, as their first shards brought it. */
  ring: Map<number, SharedArrayBuffer>;
  /** The shared sources this replica gathers rows of, by id, as the last shards that changed them brought them. */
  sources: Map<number, Float32Array>;
}

const sessions = new Map<number, Session>();

/** Control words of the snapshot region: a sequence number the main thread waits on, then the step. */
export const SNAPSHOT_SEQ = 0;
export const SNAPSHOT_STEP = 1;

export interface InitReply {
  /** With processes x replicas: how this replica's all-reduces cross between the processes. */
  cross?: CrossTransport;
}

export async function init(args: InitArgs, context: DeviceContext): Promise<InitReply> {
  await importSetupModules(args.setup);
  const factory = (await import(args.factory.url)) as Record<string, (config: unknown) => Module>;
  const module = factory[args.factory.fn](args.factory.config);
  const optimizer = getOptimizer(args.state.optimizer) as Optimizer;
  const shapes = module.outputNames.map(() => undefined);
  const compiled = compile(module.outputNames, { optimizer, loss: args.training.loss, lossWeights: args.training.lossWeights }, shapes);
  const ts = replicaState(args.state, optimizer, module, args.rank);
  const local = context.join(args.group, args.rank);
  const cross = args.cross && (await GlooCollective.connect(args.cross));
  const collective = cross ? new TwoLevelCollective(local as SharedCollective, cross) : local;
  const replica = new Replica(module, compiled, ts, collective);
  const snapshot = args.snapshot && { data: new Float32Array(args.snapshot.data), control: new Int32Array(args.snapshot.control) };
  const gate = args.gate && { gate: new StepGate(args.gate.buffer), timeoutMs: args.gate.timeoutMs };
  sessions.set(args.session, { module, compiled, optimizer, replica, rank: args.rank, layout: args.state.layout, snapshot, gate, ring: new Map(), sources: new Map() });
  return cross ? { cross: cross.transport } : {};
}

export interface StepArgs {
  session: number;
  shard: WireBatch | RingShard;
  globalRows: number;
  /** Send the predictions back (for metrics; without metrics nothing reads them). */
  predictions: boolean;
  /** Send the state after the step back with the answer (child processes, which share no memory to fetch it from later). */
  snapshot: boolean;
}

export interface StepReply {
  /** The shard's losses and predictions; null for an empty shard. */
  result: WireStepResult | null;
  snapshot?: Float32Array;
  /** Why this replica's steps run eagerly from now on (compiled steps fell back): sent once, as the main thread reports it. */
  fellBack?: string;
}

/** One training step on this replica's shard (see Replica.step). */
export async function step(args: StepArgs): Promise<StepReply> {
  return (await runStep(args))!;
}

export interface StageArgs extends StepArgs {
  /** The stage's number: the main thread's verdict on it comes through the session's gate. */
  seq: number;
}

/**
 * A staged step: sent while the previous step still runs, so that its
 * gradients are computed before the main thread has decided; they are
 * applied once it says go, and dropped (answer null) if it cancels.
 */
export async function stage(args: StageArgs): Promise<StepReply | null> {
  const s = session(args.session);
  if (!s.gate) throw new Error('this replica has no step gate (child processes take no staged steps)');
  const { gate, timeoutMs } = s.gate;
  return runStep(args, () => gate.wait(args.seq, s.rank, timeoutMs));
}

export interface StepsArgs {
  session: number;
  /** The global batches' shards, in step order. */
  shards: (WireBatch | RingShard)[];
  /** Each global batch's size. */
  globalRows: number[];
  predictions: boolean;
  /** Send the state after the last step back with the answer (see StepArgs). */
  snapshot: boolean;
}

export interface StepsReply {
  /** Each step's result, as StepReply's. */
  results: (WireStepResult | null)[];
  snapshot?: Float32Array;
  fellBack?: string;
}

/** Training steps on `shards`, one after the other, answered once (Keras's steps_per_execution; see DataParallel.trainSteps). */
export async function steps(args: StepsArgs): Promise<StepsReply> {
  const reply: StepsReply = { results: [] };
  for (const [i, shard] of args.shards.entries()) {
    const last = i === args.shards.length - 1;
    const r = (await runStep({ session: args.session, shard, globalRows: args.globalRows[i], predictions: args.predictions, snapshot: args.snapshot && last }).catch((error: unknown) => {
      // The main thread names the step that failed: the call's first, plus this.
      if (error instanceof Error) Object.assign(error, { stepsBefore: i });
      throw error;
    }))!;
    reply.results.push(r.result);
    reply.fellBack ??= r.fellBack;
    if (r.snapshot) reply.snapshot = r.snapshot;
  }
  return reply;
}

async function runStep(args: StepArgs, proceed?: () => boolean): Promise<StepReply | null> {
  const s = session(args.session);
  const batch = toBatch(s, args.shard);
  let result: WireStepResult | null = null;
  try {
    const done = await s.replica.step(batch, args.globalRows, proceed);
    if (!done) return null;
    const r = done.result;
    if (r) {
      try {
        result = wireResult(r.loss, r.outputLosses, args.predictions ? r.predictions : []);
      } finally {
        ops.dispose([r.loss, ...r.outputLosses, ...r.predictions]);
      }
    }
  } finally {
    disposeBatch(batch);
  }
  const reply: StepReply = args.snapshot ? { result, snapshot: encodeState(s.replica.state, s.optimizer).data } : { result };
  const fellBack = s.toldFallback ? undefined : fallbackReason(s.module);
  if (fellBack) [reply.fellBack, s.toldFallback] = [fellBack, true];
  return reply;
}

/** Losses and predictions of a shard in inference mode. */
export function test(args: { session: number; shard: WireBatch | RingShard }): WireStepResult | null {
  const s = session(args.session);
  const batch = toBatch(s, args.shard);
  try {
    if (batch.x[0].shape[0] === 0) return null;
    const r = runCompiled(s.module, () => testStep(s.module, s.compiled, s.replica.state, batch));
    try {
      return wireResult(r.loss, r.outputLosses, r.predictions);
    } finally {
      ops.dispose([r.loss, ...r.outputLosses, ...r.predictions]);
    }
  } finally {
    disposeBatch(batch);
  }
}

/** Predictions of a shard. */
export function predict(args: { session: number; x: WireTensor[] }): WireTensor[] {
  const s = session(args.session);
  if (args.x[0].shape[0] === 0) return [];
  const x = args.x.map(fromWire);
  try {
    const out = runCompiled(s.module, () => predictStep(s.module, s.replica.state, x));
    try {
      return out.map(toWire);
    } finally {
      ops.dispose(out);
    }
  } finally {
    ops.dispose(x);
  }
}

/**
 * Writes this replica's training state into the shared snapshot region:
 * replica 0 the weights and layer state, and the optimizer weights (with a
 * sharded update every replica writes its part of them); then it bumps
 * the sequence word and wakes the main thread, which waits for all of them.
 */
export function snapshot(args: { session: number }): void {
  const s = session(args.session);
  if (!s.snapshot) throw new Error('this replica has no shared snapshot region (child processes send their state with each step)');
  const ts = s.replica.state;
  const weights = s.rank === 0 || s.replica.sharded ? s.replica.ownedWeights() : [];
  try {
    const own = s.rank === 0 ? { params: leaves(ts.params), state: leaves(ts.state) } : {};
    writeByName(s.layout, s.snapshot.data, { ...own, optimizer: weights });
  } finally {
    disposeReplaced(weights.map(([, t]) => t), ts);
  }
  if (s.rank === 0) Atomics.store(s.snapshot.control, SNAPSHOT_STEP, ts.step);
  Atomics.add(s.snapshot.control, SNAPSHOT_SEQ, 1);
  Atomics.notify(s.snapshot.control, SNAPSHOT_SEQ);
}

/** Where this replica's steps spent their time since the last call (see StepPhases). */
export function phases(args: { session: number }): StepPhases {
  return session(args.session).replica.phases.take();
}

/** Replaces the replica's training state (weights or optimizer settings changed on the main thread). */
export function load(args: { session: number; state: WireState }): void {
  const s = session(args.session);
  s.optimizer = getOptimizer(args.state.optimizer) as Optimizer;
  s.compiled = { ...s.compiled, optimizer: s.optimizer };
  s.replica.setState(replicaState(args.state, s.optimizer, s.module, s.rank), s.compiled);
}

export async function close(args: { session: number }): Promise<void> {
  const s = sessions.get(args.session);
  if (!s) return;
  sessions.delete(args.session);
  await s.replica.dispose();
}

function session(id: number): Session {
  const s = sessions.get(id);
  if (!s) throw new Error(`no data-parallel session ${id} on this device (it was closed, or the device restarted)`);
  return s;
}

/** Replica r's state: the main thread's, with its own dropout key (replica 0 keeps the main key, so one replica is the single-device run). */
function replicaState(w: WireState, optimizer: Optimizer, module: Module, rank: number): TrainState {
  return decodeState(w.layout, w.data, optimizer, (p) => module.trainablePaths(p), w.step, rank === 0 ? w.key : foldIn(w.key, `replica ${rank}`));
}

/**
 * A shard as tensors this thread owns. A ring shard's values are read in
 * place (lent to the compiled backend; copied where steps are eager), and
 * its rows of a shared source gathered here; the main thread reuses its
 * slot only after this call has answered.
 */
function toBatch(s: Session, w: WireBatch | RingShard): Batch {
  if (!('slot' in w)) return { x: w.x.map(fromWire), y: w.y.map(fromWire), sampleWeight: w.sampleWeight?.map((t) => (t ? fromWire(t) : null)) ?? null };
  if (w.buffer) s.ring.set(w.slot, w.buffer);
  if (w.sources) s.sources = new Map(w.sources.map((source) => [source.id, source.values]));
  const buffer = s.ring.get(w.slot);
  if (!buffer) throw new Error(`batch-ring slot ${w.slot} came without its memory`);
  const tensor = (r: RingTensor) => {
    if (r.source !== undefined) return sourceRows(s, r, new Int32Array(buffer, r.byteOffset, r.shape[0]));
    const values = ringValues(buffer, r);
    return values instanceof Uint8Array ? ops.tensor(values.slice(), r.shape, 'bool') : ops.lentTensor(values, r.shape, r.dtype as 'float32' | 'int32', () => {});
  };
  return { x: w.x.map(tensor), y: w.y.map(tensor), sampleWeight: w.sampleWeight?.map((t) => (t ? tensor(t) : null)) ?? null };
}

/** Rows `indices` of the shared source `r.source`: gathered into the compiled backend's heap, else into a new tensor. */
function sourceRows(s: Session, r: RingTensor, indices: Int32Array): ops.Tensor {
  const values = s.sources.get(r.source!);
  if (!values) throw new Error(`shared batch source ${r.source} was not sent to this replica`);
  const rowShape = r.shape.slice(1);
  const inHeap = rowsIntoHeap(values, rowShape, indices);
  if (inHeap) return inHeap;
  const out = new Float32Array(ops.util.sizeFromShape(r.shape));
  copyRows(values, ops.util.sizeFromShape(rowShape), indices, out);
  return ops.tensor(out, r.shape, 'float32');
}

function disposeBatch(b: Batch): void {
  ops.dispose([...b.x, ...b.y, ...(b.sampleWeight ?? []).filter((t): t is ops.Tensor => t !== null)]);
}

function wireResult(loss: ops.Scalar, outputLosses: ops.Scalar[], predictions: ops.Tensor[]): WireStepResult {
  return { loss: loss.dataSync()[0], outputLosses: outputLosses.map((l) => l.dataSync()[0]), predictions: predictions.map(toWire) };
}
