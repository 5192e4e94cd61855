import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import { disposeReplaced, fromLeaves, leaves, mapTree, type TensorTree } from '../core/tree.js';
import type { Optimizer, OptimizerState } from '../optimizers/index.js';
import type { Compiled } from '../training/compile.js';
import type { Module } from '../training/module.js';
import { applyGradients, optimizerStep, runCompiled, type StepResult } from '../training/steps.js';
import type { Batch, TrainState } from '../training/types.js';
import type { Collective, SharedCollective } from './collective.js';
import { fusedLayout, isWhole, ownedBounds, pieceEntry, piecesIn, type FusedEntry, type FusedLayout, type Piece } from './fused-layout.js';
import { heapPart, heapTensor, readInto } from '../ops/compiled/index.js';
import { RepeatingGradientStep } from './repeating-gradient-step.js';
import { InPlaceUpdate } from './in-place-update.js';
import { PhaseClock } from './step-phases.js';

function isShared(c: Collective): c is SharedCollective {
  const s = c as Partial<SharedCollective>;
  return typeof s.slot === 'function' && typeof s.reduceScatter === 'function' && typeof s.allGather === 'function';
}

/** A replica's part of one step: the share of the global batch it holds, and the losses and predictions of its shard. */
export interface ReplicaStepResult {
  /** This shard's rows over the global batch's rows: each replica's loss counts in proportion. */
  share: number;
  /** The shard's losses and predictions; undefined for an empty shard. The caller owns them. */
  result: StepResult | undefined;
  /** The members' sum of the values asked for alongside the gradients (see Replica.step); read it before the group's next operation. */
  alongside?: Float32Array;
}

/** Values every member sums along with the gradients, in the same reduce-scatter (a member's losses). */
export interface Alongside {
  length: number;
  /** Writes this member's values into `out` (`length` floats), from its shard's result (undefined for an empty shard). */
  fill(out: Float32Array, result: StepResult | undefined): void;
}

/**
 * One data-parallel replica, whatever carries its collective (shared memory
 * between threads, a relay between processes, Gloo between hosts). A step:
 * the gradient step on this replica's shard; its gradients and new layer
 * state, scaled by the shard's share of the global batch, fused into one
 * flat buffer (so that the sum over replicas is the whole-batch gradient,
 * regularisation counted once); then one of:
 *
 * - with shared memory and several members (a sharded update, as ZeRO
 *   stage 1 / PyTorch's ZeroRedundancyOptimizer), or one alone whose
 *   update runs in place (see InPlaceUpdate): reduce-scatter; each
 *   replica applies the optimizer to the weights of its range only (it
 *   holds the optimizer state of those alone) and writes them back;
 *   all-gather; the constraints. The update's cost is divided among the
 *   replicas instead of repeated on each.
 * - otherwise: one in-place all-reduce and the same whole update on every
 *   replica.
 *
 * Either way every replica holds the same weights after every step. Layer
 * state (moving statistics) becomes the share-weighted mean of the
 * replicas' updates.
 *
 * Ownership: the replica owns its training state (the one given included)
 * and disposes it on `dispose()`.
 */
export class Replica {
  private layout: FusedLayout;
  private readonly fused: Float32Array;
  /** Each gradient's part of the fused buffer, by param path: a compiled step writes the gradients there itself. */
  private gradParts = new Map<string, Float32Array>();
  private readonly shared: SharedCollective | undefined;
  private bounds: number[] = [];
  /** This replica's parts of the gradients (with a sharded update): what it updates, and the optimizer state it holds. */
  private pieces: Piece[] = [];
  private ts!: TrainState;
  private shardedSetup = false;
  /** The sharded update in shared memory, where it can run (see InPlaceUpdate). */
  private inPlace: InPlaceUpdate | undefined;
  /** The gradient step, run from its captured graph once it repeats. */
  private readonly gradient: RepeatingGradientStep;
  /** Where the steps' time goes (see StepPhases). */
  readonly phases = new PhaseClock();

  /**
   * With `wholeState` (for a caller that keeps a whole training state: a
   * distributed process), the update is sharded only where it runs in
   * place, and the optimizer state then holds every weight's slots (see
   * InPlaceUpdate); elsewhere each replica updates all weights.
   */
  constructor(
    readonly module: Module,
    private compiled: Compiled,
    ts: TrainState,
    readonly collective: Collective,
    private readonly options: { wholeState?: boolean } = {},
  ) {
    this.layout = fusedLayout(module, ts);
    this.shared = isShared(collective) ? collective : undefined;
    this.fused = this.shared ? this.shared.slot(this.layout.length) : new Float32Array(this.layout.length);
    this.gradient = new RepeatingGradientStep(module, () => this.gradParts);
    this.setState(ts, compiled);
  }

  /**
   * Whether each replica updates only its range of the weights (and holds
   * only its part of the optimizer state). Not with `global_clipnorm`: its
   * norm is over every gradient, which no replica holds alone.
   */
  get sharded(): boolean {
    return this.shardedSetup;
  }

  /** The current training state, lent. With a sharded update, `optState` holds this replica's part only (unless `wholeState`). */
  get state(): TrainState {
    return this.ts;
  }

  /** Whether the state's views of shared memory no longer are (see InPlaceUpdate.detached): `setState` it again before a step. */
  get detached(): boolean {
    return this.inPlace?.detached ?? false;
  }

  /**
   * Replaces the training state (a whole one: weights, optimizer state and
   * step, as the main thread has them) and the compiled setup (a new
   * learning rate); the old state is disposed and `next` taken over. The
   * trainable set must stay the same: the fused buffer's layout depends on it.
   */
  setState(next: TrainState, compiled: Compiled = this.compiled): void {
    const layout = fusedLayout(this.module, next);
    if (layout.length !== this.layout.length)
      throw new InvalidArgumentError('replica state', `a state with ${this.layout.length} fused values (the same trainable weights)`, layout.length);
    this.layout = layout;
    this.gradParts = new Map(layout.grads.map((e) => [e.path, this.fused.subarray(e.offset, e.offset + e.size)]));
    this.gradient.reset();
    this.compiled = compiled;
    const optimizer = compiled.optimizer as Optimizer;
    const clipping = optimizer.getConfig();
    // A replica alone (a group of one, no tier after it) updates everything in place where it can (below), else unsharded.
    const alone = this.shared?.size === 1;
    this.shardedSetup = this.shared !== undefined && (this.shared.localSize > 1 || alone) && clipping.global_clipnorm == null;
    let { params, optState } = next;
    this.pieces = [];
    this.inPlace = undefined;
    if (this.sharded) {
      const rank = this.shared!.localRank;
      // Alone, its range is everything: it holds the whole state, and without the update in place the whole update is as good.
      const whole = this.options.wholeState === true || alone;
      this.bounds = ownedBounds(layout, this.shared!.localSize, clipping.clipnorm != null);
      this.pieces = piecesIn(layout, this.bounds[rank], this.bounds[rank + 1]);
      if (!whole) optState = this.ownedPart(next.optState as OptimizerState, next.params);
      const ts = { params, optState: optState as OptimizerState };
      this.inPlace = InPlaceUpdate.open(this.shared!.inPlace, this.module, optimizer, ts, layout.grads, this.pieces.map(pieceEntry), whole);
      if (this.inPlace) ({ params, optState } = this.inPlace.adopt(params, optState as OptimizerState));
      else if (whole) {
        this.shardedSetup = false;
        this.pieces = [];
      }
    }
    if (this.ts) disposeReplaced(this.ts, { next, params, optState });
    this.ts = { ...next, params, optState };
  }

  /**
   * One step on this replica's shard of the global batch (`shard.x[0]` may
   * have no rows: the replica then contributes nothing but still takes part
   * in the collective and the update). `globalRows` is the global batch's size.
   * With `proceed` (a staged step), the gradients are computed first and
   * the rest runs only if it then says so; else nothing changes and the
   * answer is undefined. With `alongside` (an update in place only), those
   * values are summed with the gradients, saving the members a collective.
   */
  async step(shard: Batch, globalRows: number, proceed?: () => boolean, alongside?: Alongside): Promise<ReplicaStepResult | undefined> {
    if (alongside && !this.inPlace) throw new InvalidArgumentError('alongside', 'a replica that updates in place', 'another update');
    const rows = shard.x[0].shape[0];
    const share = rows / globalRows;
    let t = performance.now();
    // The gradients come out weighted by the share: the loss is scaled inside the (compiled) step, not each gradient afterwards.
    const g = rows > 0 ? this.gradient.run(this.compiled, this.ts, shard, share === 1 ? undefined : { mean: share, sum: 1 }) : undefined;
    t = this.phases.add('gradients', t);
    const result = g && { loss: g.loss, outputLosses: g.outputLosses, predictions: g.predictions };
    const made: ops.Tensor[] = [];
    // A cancelled or failed step leaves the state as it was: what it made goes.
    const drop = () => {
      if (result) ops.dispose([result.loss, ...result.outputLosses, ...result.predictions]);
      disposeReplaced({ g: g?.state, made }, this.ts);
    };
    try {
      const go = !proceed || proceed();
      t = this.phases.add('goAhead', t);
      if (!go) {
        drop();
        return undefined;
      }
      const updating = this.phases.sum('update');
      const gradOf = new Map(g?.grads ? leaves(g.grads) : []);
      const stateOf = new Map(g ? leaves(g.state) : []);
      // A planned step wrote every gradient into its part of the fused buffer already.
      if (!g || g.grads) for (const e of this.layout.grads) fuse(this.fused, e, gradOf.get(e.path), 1);
      for (const e of this.layout.state) fuse(this.fused, e, stateOf.get(e.path), share);
      const extra = alongside?.length ?? 0;
      if (alongside) alongside.fill(this.shared!.slot(this.layout.length + extra).subarray(this.layout.length), result);
      const next = this.inPlace ? await this.inPlaceUpdate(stateOf, made, extra) : { state: this.sharded ? await this.shardedUpdate(stateOf, made) : await this.wholeUpdate(stateOf, made), all: undefined };
      // The exchange is the rest: the collectives, their waits, and fusing the values they carry.
      this.phases.add('exchange', t, this.phases.sum('update') - updating);
      this.phases.stepped();
      disposeReplaced({ p: this.ts.params, s: this.ts.state, o: this.ts.optState, g: g?.state, made }, next.state);
      this.ts = next.state;
      if (alongside) return { share, result, alongside: next.all!.subarray(this.layout.length, this.layout.length + extra) };
    } catch (error) {
      drop();
      throw error;
    } finally {
      if (g?.grads) ops.dispose(leaves(g.grads).map(([, t]) => t));
    }
    return { share, result };
  }

  /** Frees the training state; the collective is closed. */
  async dispose(): Promise<void> {
    disposeReplaced(this.ts, undefined);
    await this.collective.close();
  }

  /** All-reduce, then the whole update here (as on every replica). */
  private async wholeUpdate(stateOf: Map<string, ops.Tensor>, made: ops.Tensor[]): Promise<TrainState> {
    await this.collective.allReduce(this.fused);
    const start = performance.now();
    const grads = fromLeaves(this.layout.grads.map((e) => [e.path, view(this.fused, e, 0, made)] as [string, ops.Tensor]));
    const state = this.reducedState(this.fused, stateOf, made);
    const next = runCompiled(this.module, () => applyGradients(this.module, this.compiled, { ...this.ts, state }, grads));
    this.phases.add('update', start);
    return next;
  }

  /**
   * Reduce-scatter, the update of this replica's range in shared memory,
   * all-gather: the weights are where the next graph reads them. `extra`
   * values after the fused layout go along (the last member sums them);
   * `all` is the result region, sums included.
   */
  private async inPlaceUpdate(stateOf: Map<string, ops.Tensor>, made: ops.Tensor[], extra = 0): Promise<{ state: TrainState; all: Float32Array }> {
    const shared = this.shared!;
    const length = this.layout.length + extra;
    const bounds = extra === 0 ? this.bounds : [...this.bounds.slice(0, -1), length];
    // One or two members: the update reads their gradients where they are (two: summing them as it reads).
    const range = this.inPlace!.range;
    let addends: readonly Float32Array[] | undefined;
    if (range && shared.size <= 2 && shared.reduceScatterLeaving) addends = await shared.reduceScatterLeaving(length, bounds, range);
    else await shared.reduceScatter(length, bounds);
    const start = performance.now();
    const optState = this.inPlace!.apply(this.ts.optState as OptimizerState, addends);
    this.phases.add('update', start);
    const all = await shared.allGather(length);
    return { state: { params: this.ts.params, state: this.reducedState(all, stateOf, made), optState, step: this.ts.step + 1, key: this.ts.key }, all };
  }

  /**
   * Reduce-scatter, the update of this replica's range, all-gather, the
   * constraints. The gathered weights stay in the shared result region,
   * lent to the next step's graph (no copy); so this replica's range of
   * them is read before the reduce-scatter sums the gradients over it.
   */
  private async shardedUpdate(stateOf: Map<string, ops.Tensor>, made: ops.Tensor[]): Promise<TrainState> {
    const shared = this.shared!;
    const from = this.bounds[shared.localRank];
    const paramOf = new Map(leaves(this.ts.params));
    const owned = this.pieces.map((p) => [p.entry.path, pieceOf(paramOf.get(p.entry.path)!, p, made, true)] as [string, ops.Tensor]);
    const mine = await shared.reduceScatter(this.layout.length, this.bounds);
    const start = performance.now();
    const update = runCompiled(this.module, () =>
      ops.tidy(() => {
        const grads = fromLeaves(this.pieces.map((p) => [p.entry.path, view(mine, pieceEntry(p), from)] as [string, ops.Tensor]));
        const r = optimizerStep(this.compiled, fromLeaves(owned), grads, this.ts.optState as OptimizerState);
        return { updated: r.params, optState: r.state as unknown as ops.TensorContainer };
      }),
    );
    made.push(...collectLeaves(update.updated));
    const updated = new Map(leaves(update.updated));
    for (const p of this.pieces) {
      const e = pieceEntry(p);
      readInto(updated.get(e.path)!, mine.subarray(e.offset - from, e.offset - from + e.size));
    }
    this.phases.add('update', start);
    const all = await shared.allGather(this.layout.length);
    const byPath = new Map(this.layout.grads.map((e) => [e.path, e]));
    const gathered = mapTree(this.ts.params, (t, path) => (byPath.has(path) ? lent(all, byPath.get(path)!, made) : t));
    const params = this.module.constrain(gathered);
    return { params, state: this.reducedState(all, stateOf, made), optState: update.optState, step: this.ts.step + 1, key: this.ts.key };
  }

  /** The layer state after the step: the reduced float values, this replica's own for any other. */
  private reducedState(values: Float32Array, stateOf: Map<string, ops.Tensor>, made: ops.Tensor[]): TensorTree {
    const reduced = new Map(this.layout.state.map((e) => [e.path, view(values, e, 0, made)]));
    return mapTree(this.ts.state, (t, path) => reduced.get(path) ?? stateOf.get(path) ?? t);
  }

  /** This replica's part of a whole optimizer state (the slots of its pieces); `state` is disposed. */
  private ownedPart(state: OptimizerState, params: TensorTree): OptimizerState {
    const optimizer = this.compiled.optimizer as Optimizer;
    const paramOf = new Map(leaves(params));
    const paths = this.pieces.map((p) => p.entry.path);
    const made: ops.Tensor[] = [];
    const fresh = optimizer.init(fromLeaves(this.pieces.map((p) => [p.entry.path, pieceOf(paramOf.get(p.entry.path)!, p, made)] as [string, ops.Tensor])));
    const whole = optimizer.weights(state, paths);
    try {
      // The slots of a split param are cut to this replica's piece.
      const values = whole.map(([, w], i) => {
        const p = this.pieceOfWeight(i, whole.length);
        if (!p || isWhole(p)) return w;
        const part = ops.tidy(() => ops.slice(ops.reshape(w, [-1]), [p.start], [p.end - p.start]));
        made.push(part);
        return part;
      });
      return optimizer.setWeights(fresh, values, paths);
    } finally {
      ops.dispose([...made, ...whole.map(([, t]) => t)]);
      disposeReplaced({ fresh, state }, undefined);
    }
  }

  /**
   * The optimizer weights this replica holds, each with where it goes in
   * the whole weight (elements from its start): a slot of a piece sits at
   * the piece's start. The slots are the state's own (read them before the
   * next step); the caller disposes the others (disposeReplaced(them, state)).
   */
  ownedWeights(): [string, ops.Tensor, number][] {
    const paths = this.sharded ? this.pieces.map((p) => p.entry.path) : undefined;
    const weights = (this.compiled.optimizer as Optimizer).weights(this.ts.optState as OptimizerState, paths, false);
    return weights.map(([name, t], i) => [name, t, this.pieceOfWeight(i, weights.length)?.start ?? 0]);
  }

  /** The piece that weight `i` of this replica's `count` optimizer weights is a slot of (slots come last, path by path, as Optimizer.weights orders them); undefined for the others. */
  private pieceOfWeight(i: number, count: number): Piece | undefined {
    const slots = count - (this.compiled.optimizer as Optimizer).slotNames.length * this.pieces.length;
    return i >= slots ? this.pieces[(i - slots) % this.pieces.length] : undefined;
  }
}

/**
 * The values of piece `p` of `t` (the whole param): `t` itself, or a flat
 * copy of the part (pushed to `made` when given); always a copy with `copy`
 * (`t` is lent from memory about to be overwritten).
 */
function pieceOf(t: ops.Tensor, p: Piece, made?: ops.Tensor[], copy = false): ops.Tensor {
  if (isWhole(p) && !copy) return t;
  const e = pieceEntry(p);
  const inHeap = heapPart(t, p.start, e.shape);
  if (inHeap) {
    made?.push(inHeap);
    return inHeap;
  }
  const size = p.end - p.start;
  if (scratch.length < size) scratch = new Float32Array(size);
  const part = scratch.subarray(0, size);
  readInto(t, part, p.start);
  return view(part, e, e.offset, made);
}

/** Where a split param's piece is read before it is copied into a tensor (reused: every step reads one or two). */
let scratch = new Float32Array(0);

/**
 * `buf[entry] = share * values` (zeros for a replica with no rows). Values
 * are read in place where the compiled backend holds them; scaled ones are
 * read back and scaled here (a backend op would, on the compiled backend,
 * move the tensor to the eager backend and back).
 */
function fuse(buf: Float32Array, e: FusedEntry, t: ops.Tensor | undefined, share: number): void {
  const out = buf.subarray(e.offset, e.offset + e.size);
  if (!t || share === 0) out.fill(0);
  else if (share === 1) readInto(t, out);
  else {
    const values = t.dataSync() as Float32Array;
    for (let i = 0; i < values.length; i++) out[i] = values[i] * share;
  }
}

/** A tensor over the values of `entry` in `buf` (the shared result region), lent where steps are compiled, else a copy. */
function lent(buf: Float32Array, e: FusedEntry, made: ops.Tensor[]): ops.Tensor {
  const t = ops.lentTensor(buf.subarray(e.offset, e.offset + e.size), e.shape, 'float32', () => {});
  made.push(t);
  return t;
}

/**
 * A new tensor with the values of `entry` in `buf` (which starts at offset
 * `base` of the fused layout). With compiled steps it lives in the fused
 * update's heap, where the next step's graph reads it in place; the wasm
 * backend copies a view into its heap; the cpu backend keeps the array it
 * is given, so it gets a copy (the buffer is overwritten every step).
 */
function view(buf: Float32Array, e: FusedEntry, base: number, made?: ops.Tensor[]): ops.Tensor {
  const values = buf.subarray(e.offset - base, e.offset - base + e.size);
  const t = heapTensor(values, e.shape) ?? ops.copiedTensor(values, e.shape, 'float32');
  made?.push(t);
  return t;
}

function collectLeaves(tree: TensorTree): ops.Tensor[] {
  return leaves(tree).map(([, t]) => t);
}
