import * as ops from '../ops/index.js';
import { disposeReplaced, fromLeaves, leaves, type TensorTree } from '../core/tree.js';
import { applyGradients, runCompiled, testStep, type StepResult } from '../training/steps.js';
import { RepeatingGradientStep, type PlannedGradientResult } from './repeating-gradient-step.js';
import { combinedLosses, lossContributions } from '../training/split-losses.js';
import type { StepRunner } from '../training/step-runner.js';
import type { Compiled } from '../training/compile.js';
import type { Module } from '../training/module.js';
import type { Batch, TrainState, Variables } from '../training/types.js';
import type { Collective } from './collective.js';
import type { DataParallel } from './data-parallel.js';
import { Replica } from './replica.js';
import { fusedLayout } from './fused-layout.js';
import { compiledStepsEnabled, heapTensor, readInto } from '../ops/compiled/index.js';
import { InvalidArgumentError } from '../core/errors.js';

export interface DistributedStepOptions {
  /** Largest all-reduce, in bytes, the fused gradients are cut into (default 25 MB, as PyTorch DDP's buckets). */
  bucketBytes?: number;
}

/** What the members' rows add up to in one step. */
interface Combined {
  /** Rows per member. */
  counts: number[];
  loss: ops.Scalar;
  outputLosses: ops.Scalar[];
}

/**
 * Data-parallel training steps across the members of a Collective (processes
 * or hosts through Gloo), as the fit loop's {@link StepRunner}. Each member
 * is given its own rows of the global batch (any number, none included) and
 * the same state. Every member's row count comes with the batch from a
 * sharded source (arrays), else the members add them up first; each computes
 * the gradients of its rows weighted by their share of the global batch;
 * the weighted gradients and losses are summed in one fused buffer
 * (all-reduced in buckets), so the update equals a single-process
 * step on the whole batch and every member applies it alike. Layer state
 * (BatchNormalization's moving statistics) is taken from the last member
 * with rows. Predictions, targets and sample weights are gathered in rank
 * order, so every member logs the whole batch.
 *
 * Where the members share memory (processes of one host, see
 * Collective.updateGroup) and steps are compiled, the update is sharded in
 * place instead, as worker replicas do it (see Replica): each member
 * updates its range of the weights and optimizer slots in that memory,
 * where the others' graphs read them, so the update's cost is divided and
 * nothing is copied; the training state it returns is lent from that
 * memory (whole: every weight and slot), and `lendsState` says so. Not
 * with layer state (its rule here is the last member's).
 *
 * With `replicas` (processes x replicas), the member's rows go to its
 * worker replicas instead, which reduce their gradients among themselves
 * and across the processes and update (see TwoLevelCollective); this
 * thread learns the row counts first, as above (each replica's gradient is
 * weighted by its rows over the global batch's), then combines the losses
 * and predictions as above.
 */
export class DistributedStep implements StepRunner {
  private readonly bucketElements: number;
  private scratch: Float32Array = new Float32Array(0);
  /** Whether `scratch` is the collective's in-place buffer. */
  private scratchInPlace = false;
  /** Each gradient's part of the fused buffer, by param path (kept while the buffer and the trainable weights are: a captured step writes into them). */
  private parts: { scratch: Float32Array; key: string; parts: Map<string, Float32Array> } | undefined;
  /** The gradient step, run from its captured graph once it repeats. */
  private readonly gradient: RepeatingGradientStep;
  /** The sharded update in shared memory: its replica and the state it returned last; null where it cannot run; undefined until the first step. */
  private inPlace: { replica: Replica; returned: TrainState | undefined } | null | undefined;

  constructor(
    private readonly module: Module,
    readonly compiled: Compiled,
    private readonly collective: Collective,
    options: DistributedStepOptions = {},
    private readonly replicas?: DataParallel,
  ) {
    this.bucketElements = Math.max(1, Math.floor((options.bucketBytes ?? 25 << 20) / 4));
    this.gradient = new RepeatingGradientStep(module, () => this.parts!.parts);
  }

  /** One training step on this member's rows of the global batch. It takes `ts` over, as the fit loop's steps do; the caller owns the result's tensors. */
  async train(ts: TrainState, batch: Batch): Promise<{ state: TrainState; result: StepResult }> {
    if (this.replicas) return this.trainReplicas(this.replicas, ts, batch);
    if (this.inPlace === undefined) this.inPlace = await this.openInPlace(ts);
    if (this.inPlace) return this.trainInPlace(this.inPlace, ts, batch);
    const { module, compiled } = this;
    const rows = batch.x[0].shape[0];
    const trainable = module.trainablePaths(ts.params);
    const trainLeaves = leaves(ts.params).filter(([p]) => trainable.has(p));
    const sizes = trainLeaves.map(([, t]) => t.size);
    let g: PlannedGradientResult | undefined;
    let combined: Combined | undefined;
    let grads: TensorTree | undefined;
    let done = false;
    try {
      // The gradients come out weighted by this member's share of the global batch (summed losses as they are: see
      // split-losses.ts), scaled inside the (compiled) step, so that their all-reduced sum is the whole batch's.
      const counts = await this.rowCounts(batch, rows);
      const total = counts.reduce((a, b) => a + b, 0);
      const length = sizes.reduce((a, b) => a + b, 0);
      const fused = this.buffer(length);
      const parts = this.gradientParts(fused, trainLeaves.map(([path]) => path), sizes);
      // A compiled step writes the gradients straight into the fused buffer (reading them there copies nothing); a step run
      // from its captured graph leaves no gradient tensors.
      g = rows > 0 ? this.gradient.run(compiled, ts, batch, { mean: rows / total, sum: 1 }) : undefined;
      const gradLeaves = g?.grads ? new Map(leaves(g.grads)) : undefined;
      if (!g || gradLeaves)
        for (const [path, part] of parts) {
          if (gradLeaves) readInto(gradLeaves.get(path)!, part);
          else part.fill(0);
        }
      combined = await this.combine(rows, g, fused, length, counts);
      grads = fromLeaves(
        trainLeaves.map(([path, t]) => {
          const values = parts.get(path)!;
          // In the fused update's heap with compiled steps (the update reads it in place), else a copy on the backend.
          return [path, heapTensor(values, t.shape) ?? ops.copiedTensor(values, t.shape, 'float32')] as [string, ops.Tensor];
        }),
      );
      const state = await this.layerState(g ? g.state : ts.state, combined.counts);
      const gathered = await this.gather(g?.predictions, batch, combined.counts);
      const next = runCompiled(module, () => applyGradients(module, compiled, { ...ts, state }, grads!));
      disposeReplaced({ p: ts.params, s: ts.state, o: ts.optState, gs: g?.state }, { p: next.params, s: next.state, o: next.optState });
      const result = { loss: combined.loss, outputLosses: combined.outputLosses, ...gathered };
      combined = undefined;
      done = true;
      return { state: next, result };
    } finally {
      // A failed step (a lost rank) leaves `ts` as it was: the forward pass's new layer state goes.
      if (g && !done) disposeReplaced(g.state, ts.state);
      if (g) ops.dispose([g.loss, ...g.outputLosses, ...g.predictions, ...(g.grads ? leaves(g.grads).map(([, t]) => t) : [])]);
      if (grads) ops.dispose(leaves(grads).map(([, t]) => t));
      if (combined) ops.dispose([combined.loss, ...combined.outputLosses]);
    }
  }

  /** Whether the states `train` returns are lent from memory the members share (see the class comment): copy what outlives the fit. */
  get lendsState(): boolean {
    return Boolean(this.inPlace);
  }

  /**
   * The replica of the sharded update in shared memory, where it can run:
   * every member asks at its first step (alike: the same model, optimizer
   * and backend everywhere) for a group with room for it. It takes `ts` over.
   */
  private async openInPlace(ts: TrainState): Promise<{ replica: Replica; returned: undefined } | null> {
    if (!this.collective.updateGroup || !compiledStepsEnabled() || leaves(ts.state).length > 0) return null;
    // Room for the loss contributions after the gradients: they are summed along.
    const group = await this.collective.updateGroup(fusedLayout(this.module, ts).length + this.lossLength());
    if (!group) return null;
    const replica = new Replica(this.module, this.compiled, ts, group, { wholeState: true });
    if (replica.sharded) return { replica, returned: undefined };
    // Its update would not run in place (an optimizer without a fused rule, a constraint): the plain step instead (the
    // replica lent nothing; `ts` is as it was).
    return null;
  }

  /**
   * A step with the sharded update in shared memory; the members' loss
   * contributions are summed along with the gradients, and predictions
   * gathered as the plain step does.
   */
  private async trainInPlace(inPlace: { replica: Replica; returned: TrainState | undefined }, ts: TrainState, batch: Batch): Promise<{ state: TrainState; result: StepResult }> {
    const { replica } = inPlace;
    // A state other than the one this returned last (a callback changed it), or one an eager op moved out of shared memory
    // (a callback read it so): the replica takes it over again. Every member has finished the last step's update by now.
    if ((inPlace.returned !== undefined && ts !== inPlace.returned) || replica.detached) replica.setState(ts);
    const rows = batch.x[0].shape[0];
    const counts = await this.rowCounts(batch, rows);
    const total = counts.reduce((a, b) => a + b, 0);
    const part = await replica.step(batch, total, undefined, { length: this.lossLength(), fill: (out, local) => this.lossContributions(rows, local, out) });
    const local = part?.result;
    let losses: Pick<StepResult, 'loss' | 'outputLosses'> | undefined;
    try {
      const summed = combinedLosses(this.compiled, part!.alongside!, total);
      losses = { loss: ops.scalar(summed.loss), outputLosses: summed.outputLosses.map((l) => ops.scalar(l)) };
      const result = { ...losses, ...(await this.gather(local?.predictions, batch, counts)) };
      losses = undefined;
      inPlace.returned = replica.state;
      return { state: replica.state, result };
    } finally {
      if (local) ops.dispose([local.loss, ...local.outputLosses, ...local.predictions]);
      if (losses) ops.dispose([losses.loss, ...losses.outputLosses]);
    }
  }

  /** The step on this member's worker replicas (the state is theirs, lazily fetched); losses and predictions combined here. */
  private async trainReplicas(replicas: DataParallel, ts: TrainState, batch: Batch): Promise<{ state: TrainState; result: StepResult }> {
    const rows = batch.x[0].shape[0];
    const counts = await this.rowCounts(batch, rows);
    const { state, result: local } = await replicas.trainPart(ts, batch, counts.reduce((a, b) => a + b, 0));
    try {
      return { state, result: await this.combineResult(rows, local, batch, counts) };
    } finally {
      if (local) ops.dispose([local.loss, ...local.outputLosses, ...local.predictions]);
    }
  }

  /** Losses and predictions of the global batch in inference mode, each member scoring its own rows (`batch`). */
  async test(variables: Variables, batch: Batch): Promise<StepResult> {
    const rows = batch.x[0].shape[0];
    let r: StepResult | undefined;
    try {
      r = rows > 0 ? runCompiled(this.module, () => testStep(this.module, this.compiled, variables, batch)) : undefined;
      return await this.combineResult(rows, r, batch);
    } finally {
      if (r) ops.dispose([r.loss, ...r.outputLosses, ...r.predictions]);
    }
  }

  /** The global batch's losses (the members' weighted by their rows) and its predictions and targets (gathered in rank order). */
  private async combineResult(rows: number, local: StepResult | undefined, batch: Batch, counts?: number[]): Promise<StepResult> {
    const combined = await this.combine(rows, local, this.buffer(0), 0, counts);
    try {
      return { loss: combined.loss, outputLosses: combined.outputLosses, ...(await this.gather(local?.predictions, batch, combined.counts)) };
    } catch (error) {
      ops.dispose([combined.loss, ...combined.outputLosses]);
      throw error;
    }
  }

  /**
   * Every member takes member 0's weights, layer state, step and random key
   * (as DDP does at the start), so all start alike whatever their seeds and
   * shuffle alike. The optimizer state is left as it is: every member makes
   * or loads it the same way.
   */
  async syncState(ts: TrainState): Promise<TrainState> {
    const tree = { p: ts.params, s: ts.state };
    const synced = (await this.broadcastTree(tree, 0)) as typeof tree;
    // A 32-bit key does not fit a float32: it travels as two 16-bit halves.
    const counters = Float32Array.of(ts.key & 0xffff, ts.key >>> 16, ts.step);
    await this.collective.broadcast(counters, 0);
    disposeReplaced(tree, synced);
    // A tree without leaves (no layer state) comes back without its key: the (empty) tree stays.
    return { ...ts, params: synced.p, state: synced.s ?? ts.state, key: (counters[0] + counters[1] * 0x10000) >>> 0, step: counters[2] };
  }

  /**
   * Every member's rows of the global batch, in rank order: as the batch
   * says (a sharded source), else exchanged. Every member's batches must
   * say them or none: the exchange is a collective.
   */
  private async rowCounts(batch: Batch, rows: number): Promise<number[]> {
    const { size, rank } = this.collective;
    if (batch.memberRows) {
      if (batch.memberRows.length !== size || batch.memberRows[rank] !== rows)
        throw new InvalidArgumentError('batch.memberRows', `${size} row counts with ${rows} (this batch's rows) at rank ${rank}`, batch.memberRows);
      return batch.memberRows;
    }
    const counts = new Float32Array(size);
    counts[rank] = rows;
    await this.collective.allReduce(counts);
    return Array.from(counts);
  }

  /** The gradients' parts of `fused`, in order: the same arrays from step to step while the buffer and the trainable weights stay. */
  private gradientParts(fused: Float32Array, paths: string[], sizes: number[]): Map<string, Float32Array> {
    const key = paths.map((p, i) => `${p}:${sizes[i]}`).join();
    if (this.parts?.scratch !== fused || this.parts.key !== key) {
      let offset = 0;
      this.parts = { scratch: fused, key, parts: new Map(paths.map((path, i) => [path, fused.subarray(offset, (offset += sizes[i]))])) };
      this.gradient.reset();
    }
    return this.parts.parts;
  }

  /**
   * The step's fused buffer, `weighted` floats and the losses and row counts
   * behind them: one array, reused from step to step; the collective's own,
   * where it sums one in place (the gradients are then written where they
   * are summed).
   */
  private buffer(weighted: number): Float32Array {
    const length = weighted + this.lossLength() + this.collective.size;
    if (this.scratch.length < length) {
      const shared = this.collective.inPlaceBuffer?.(length);
      this.scratchInPlace = shared !== undefined;
      this.scratch = shared ?? new Float32Array(length);
    }
    return this.scratch;
  }

  /**
   * Adds up the members' losses (see split-losses.ts: averaged ones weighted
   * by their rows, summed ones as they are) and the first `weighted` floats
   * of `buffer` (filled by the caller) in one fused all-reduce, with every
   * member's row count behind them unless the step exchanged `known`
   * already; the averaged losses come back divided by the total rows.
   */
  private async combine(rows: number, local: StepResult | undefined, buffer: Float32Array, weighted: number, known?: number[]): Promise<Combined> {
    const { size, rank } = this.collective;
    const losses = this.lossLength();
    // [weighted | loss contributions | rows of each member, unless known]
    const fused = buffer.subarray(0, weighted + losses + (known ? 0 : size));
    const at = weighted;
    fused.fill(0, at);
    this.lossContributions(rows, local, fused.subarray(at, at + losses));
    if (!known) fused[at + losses + rank] = rows;
    await this.allReduce(fused);
    const counts = known ?? Array.from(fused.subarray(at + losses));
    const total = counts.reduce((a, b) => a + b, 0);
    const { loss, outputLosses } = combinedLosses(this.compiled, fused.subarray(at, at + losses), total);
    return { counts, loss: ops.scalar(loss), outputLosses: outputLosses.map((l) => ops.scalar(l)) };
  }

  /** Floats of a member's loss contributions: the averaged and the summed part of the total, then one per output (see split-losses.ts). */
  private lossLength(): number {
    return 2 + this.compiled.losses.length;
  }

  /** This member's loss contributions into `out` (averaged losses weighted by its rows, summed ones as they are); zeros without rows. */
  private lossContributions(rows: number, local: StepResult | undefined, out: Float32Array): void {
    out.fill(0);
    if (!local) return;
    const value = (l: ops.Scalar) => l.dataSync()[0];
    out.set(lossContributions(this.compiled, value(local.loss), local.outputLosses.map(value), { mean: rows, sum: 1 }));
  }

  /** A copy of `root`'s tree on every member (same paths, shapes and dtypes everywhere). */
  private async broadcastTree(tree: TensorTree, root: number): Promise<TensorTree> {
    const all = leaves(tree);
    const flat = new Float32Array(all.reduce((a, [, t]) => a + t.size, 0));
    let offset = 0;
    for (const [, t] of all) {
      flat.set(t.dataSync(), offset);
      offset += t.size;
    }
    await this.collective.broadcast(flat, root);
    offset = 0;
    return fromLeaves(
      all.map(([path, t]) => {
        const copy = ops.tensor(flat.subarray(offset, offset + t.size), t.shape, t.dtype);
        offset += t.size;
        return [path, copy] as [string, ops.Tensor];
      }),
    );
  }

  private async allReduce(buffer: Float32Array): Promise<void> {
    // The collective's own buffer is summed where it is, whole (buckets are for transports that copy).
    if (this.scratchInPlace && buffer.buffer === this.scratch.buffer && buffer.byteOffset === this.scratch.byteOffset) return this.collective.allReduce(buffer);
    const buckets: Promise<void>[] = [];
    for (let start = 0; start < buffer.length; start += this.bucketElements) {
      buckets.push(this.collective.allReduce(buffer.subarray(start, start + this.bucketElements)));
    }
    await Promise.all(buckets);
  }

  /** The layer state of the last member with rows, on every member. */
  private async layerState(state: TensorTree, counts: number[]): Promise<TensorTree> {
    return leaves(state).length === 0 ? state : this.broadcastTree(state, lastWithRows(counts));
  }

  /**
   * The whole batch's predictions, targets and sample weights, in rank order:
   * every member writes its rows into zeros at its offset and one all-reduce
   * adds them up. Only metrics read them: without metrics the step skips
   * this collective and returns the row count alone.
   */
  private async gather(predictions: ops.Tensor[] | undefined, batch: Batch, counts: number[]): Promise<Pick<StepResult, 'predictions' | 'targets'>> {
    const rank = this.collective.rank;
    const total = counts.reduce((a, b) => a + b, 0);
    if (this.compiled.metrics.length === 0) return { predictions: [], targets: { rows: total, y: [], sampleWeight: null } };
    const start = counts.slice(0, rank).reduce((a, b) => a + b, 0);
    // A member without rows has no predictions: the last member with rows tells it their row shapes.
    const predictionShapes = counts.includes(0) ? await this.rowShapes(predictions, lastWithRows(counts)) : predictions!.map((p) => p.shape.slice(1));
    const weights = batch.sampleWeight ?? null;
    const parts: { local: ops.Tensor | undefined; rowShape: number[]; dtype: ops.DataType }[] = [
      ...predictionShapes.map((rowShape, i) => ({ local: predictions?.[i], rowShape, dtype: 'float32' as ops.DataType })),
      ...batch.y.map((y) => ({ local: y, rowShape: y.shape.slice(1), dtype: y.dtype })),
      ...(weights ?? []).flatMap((w) => (w ? [{ local: w, rowShape: w.shape.slice(1), dtype: w.dtype }] : [])),
    ];
    const rowSizes = parts.map((p) => p.rowShape.reduce((a, b) => a * b, 1));
    const buffer = new Float32Array(rowSizes.reduce((a, b) => a + b, 0) * total);
    let offset = 0;
    parts.forEach((p, i) => {
      if (p.local && p.local.size > 0) buffer.set(p.local.dataSync(), offset + start * rowSizes[i]);
      offset += rowSizes[i] * total;
    });
    await this.allReduce(buffer);
    offset = 0;
    const whole = parts.map((p, i) => {
      const t = ops.tensor(buffer.subarray(offset, offset + rowSizes[i] * total), [total, ...p.rowShape], p.dtype);
      offset += rowSizes[i] * total;
      return t;
    });
    const outputs = predictionShapes.length;
    let w = outputs + batch.y.length;
    return {
      predictions: whole.slice(0, outputs),
      targets: { rows: total, y: whole.slice(outputs, outputs + batch.y.length), sampleWeight: weights && weights.map((sw) => (sw ? whole[w++] : null)) },
    };
  }

  private async rowShapes(shapes: ops.Tensor[] | undefined, root: number): Promise<number[][]> {
    const MAX_RANK = 8;
    const outputs = this.module.outputNames.length;
    const buffer = new Float32Array(outputs * (1 + MAX_RANK));
    shapes?.forEach((p, i) => buffer.set([p.shape.length - 1, ...p.shape.slice(1)], i * (1 + MAX_RANK)));
    await this.collective.broadcast(buffer, root);
    return Array.from({ length: outputs }, (_, i) => {
      const at = i * (1 + MAX_RANK);
      return Array.from(buffer.subarray(at + 1, at + 1 + buffer[at]));
    });
  }
}

function lastWithRows(counts: number[]): number {
  return counts.findLastIndex((c) => c > 0);
}
