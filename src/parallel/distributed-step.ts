import * as ops from '../ops/index.js';
import { disposeReplaced, fromLeaves, leaves, type TensorTree } from '../core/tree.js';
import { applyGradients, gradientStep, testStep, type GradientStepResult, type StepResult } from '../training/steps.js';
import type { Compiled } from '../training/compile.js';
import type { Module } from '../training/module.js';
import type { Batch, TrainState, Variables } from '../training/types.js';
import type { Collective } from './collective.js';

export interface DistributedStepOptions {
  /** Largest all-reduce, in bytes, the fused gradients are cut into (default 25 MB, as PyTorch DDP's buckets). */
  bucketBytes?: number;
}

/** The rows of a global batch of `n` that member `rank` of `size` takes: equal parts, the last one also the rest (Keras's get_slice). */
export function shardRows(n: number, rank: number, size: number): { start: number; rows: number } {
  const step = Math.floor(n / size);
  return { start: rank * step, rows: rank === size - 1 ? n - step * (size - 1) : step };
}

/**
 * Data-parallel training steps across the members of a Collective (processes
 * or hosts through Gloo). Every member is given the same global batch and
 * the same state; each computes the gradients of its own rows, weighted by
 * their share of the batch, and the weighted gradients and losses are summed
 * in one fused buffer (all-reduced in buckets), so the update equals a
 * single-process step on the whole batch and every member applies it alike.
 * Layer state (BatchNormalization's moving statistics) is taken from the last
 * member, which always has rows; predictions are gathered in row order.
 */
export class DistributedStep {
  private readonly bucketElements: number;

  constructor(
    private readonly module: Module,
    private readonly compiled: Compiled,
    private readonly collective: Collective,
    options: DistributedStepOptions = {},
  ) {
    this.bucketElements = Math.max(1, Math.floor((options.bucketBytes ?? 25 << 20) / 4));
  }

  /** One training step on `batch`, the global batch. It takes `ts` over, as the fit loop's steps do; the caller owns the result's tensors. */
  async train(ts: TrainState, batch: Batch): Promise<{ state: TrainState; result: StepResult }> {
    const { module, compiled } = this;
    const n = batch.x[0].shape[0];
    const local = this.shard(batch);
    const trainable = module.trainablePaths(ts.params);
    const trainLeaves = leaves(ts.params).filter(([p]) => trainable.has(p));
    let g: GradientStepResult | undefined;
    let grads: TensorTree | undefined;
    try {
      g = local.rows > 0 ? gradientStep(module, compiled, ts, local.batch) : undefined;
      const weight = local.rows / n;
      const gradLeaves = g ? new Map(leaves(g.grads)) : undefined;
      const sizes = trainLeaves.map(([, t]) => t.size);
      const gradElements = sizes.reduce((a, b) => a + b, 0);
      const outputs = compiled.losses.length;
      // [weighted gradients | weighted loss | weighted loss per output]
      const fused = new Float32Array(gradElements + 1 + outputs);
      let offset = 0;
      trainLeaves.forEach(([path], i) => {
        if (gradLeaves) {
          const data = gradLeaves.get(path)!.dataSync();
          for (let j = 0; j < data.length; j++) fused[offset + j] = data[j] * weight;
        }
        offset += sizes[i];
      });
      if (g) {
        fused[offset] = g.loss.dataSync()[0] * weight;
        g.outputLosses.forEach((l, i) => (fused[offset + 1 + i] = l.dataSync()[0] * weight));
      }
      await this.allReduce(fused);
      offset = 0;
      grads = fromLeaves(
        trainLeaves.map(([path, t], i) => {
          const grad = ops.tensor(fused.subarray(offset, offset + sizes[i]), t.shape, 'float32');
          offset += sizes[i];
          return [path, grad] as [string, ops.Tensor];
        }),
      );
      const state = await this.layerState(g ? g.state : ts.state);
      const predictions = await this.gather(g?.predictions, local, n);
      const next = applyGradients(module, compiled, { ...ts, state }, grads);
      disposeReplaced({ p: ts.params, s: ts.state, o: ts.optState, gs: g?.state }, { p: next.params, s: next.state, o: next.optState });
      const result: StepResult = {
        loss: ops.scalar(fused[offset]),
        outputLosses: Array.from({ length: outputs }, (_, i) => ops.scalar(fused[offset + 1 + i])),
        predictions,
      };
      return { state: next, result };
    } finally {
      if (g) ops.dispose([g.loss, ...g.outputLosses, ...g.predictions, ...leaves(g.grads).map(([, t]) => t)]);
      if (grads) ops.dispose(leaves(grads).map(([, t]) => t));
      local.dispose();
    }
  }

  /** Losses and predictions of the global `batch` in inference mode, each member scoring its own rows. */
  async test(variables: Variables, batch: Batch): Promise<StepResult> {
    const n = batch.x[0].shape[0];
    const local = this.shard(batch);
    let r: StepResult | undefined;
    try {
      r = local.rows > 0 ? testStep(this.module, this.compiled, variables, local.batch) : undefined;
      const outputs = this.compiled.losses.length;
      const weight = local.rows / n;
      const losses = new Float32Array(1 + outputs);
      if (r) [r.loss, ...r.outputLosses].forEach((l, i) => (losses[i] = l.dataSync()[0] * weight));
      await this.collective.allReduce(losses);
      const predictions = await this.gather(r?.predictions, local, n);
      return { loss: ops.scalar(losses[0]), outputLosses: Array.from({ length: outputs }, (_, i) => ops.scalar(losses[1 + i])), predictions };
    } finally {
      if (r) ops.dispose([r.loss, ...r.outputLosses, ...r.predictions]);
      local.dispose();
    }
  }

  /**
   * Every member takes member 0's weights and layer state (as DDP does at the
   * start), so all start alike whatever their seeds. The optimizer state is
   * left as it is: every member makes or loads it the same way.
   */
  async syncState(ts: TrainState): Promise<TrainState> {
    const tree = { p: ts.params, s: ts.state };
    const synced = (await this.broadcastTree(tree, 0)) as typeof tree;
    disposeReplaced(tree, synced);
    return { ...ts, params: synced.p, state: synced.s };
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
    const buckets: Promise<void>[] = [];
    for (let start = 0; start < buffer.length; start += this.bucketElements) {
      buckets.push(this.collective.allReduce(buffer.subarray(start, start + this.bucketElements)));
    }
    await Promise.all(buckets);
  }

  /** This member's rows of a batch (views made here, freed by `dispose`). */
  private shard(batch: Batch): { batch: Batch; start: number; rows: number; dispose(): void } {
    const { start, rows } = shardRows(batch.x[0].shape[0], this.collective.rank, this.collective.size);
    const made: ops.Tensor[] = [];
    const take = (t: ops.Tensor) => {
      const s = ops.slice(t, [start], [rows]);
      made.push(s);
      return s;
    };
    const local: Batch = {
      x: batch.x.map(take),
      y: batch.y.map(take),
      sampleWeight: batch.sampleWeight?.map((w) => (w ? take(w) : null)) ?? null,
    };
    return { batch: local, start, rows, dispose: () => ops.dispose(made) };
  }

  /** The last member's layer state, on every member. */
  private async layerState(state: TensorTree): Promise<TensorTree> {
    return leaves(state).length === 0 ? state : this.broadcastTree(state, this.collective.size - 1);
  }

  /** Each output's predictions for the whole batch, in row order: every member writes its rows into zeros and the sum is the concatenation. */
  private async gather(predictions: ops.Tensor[] | undefined, local: { start: number; rows: number }, n: number): Promise<ops.Tensor[]> {
    let shapes = predictions?.map((p) => p.shape.slice(1));
    // With fewer rows than members some have none: the last member (never empty) tells them the row shapes.
    if (n < this.collective.size) shapes = await this.rowShapes(shapes);
    return Promise.all(
      shapes!.map(async (rowShape, i) => {
        const rowSize = rowShape.reduce((a, b) => a * b, 1);
        const buffer = new Float32Array(n * rowSize);
        if (predictions) buffer.set(predictions[i].dataSync(), local.start * rowSize);
        await this.collective.allReduce(buffer);
        return ops.tensor(buffer, [n, ...rowShape], 'float32');
      }),
    );
  }

  private async rowShapes(shapes: number[][] | undefined): Promise<number[][]> {
    const MAX_RANK = 8;
    const outputs = this.module.outputNames.length;
    const buffer = new Float32Array(outputs * (1 + MAX_RANK));
    shapes?.forEach((shape, i) => buffer.set([shape.length, ...shape], i * (1 + MAX_RANK)));
    await this.collective.broadcast(buffer, this.collective.size - 1);
    return Array.from({ length: outputs }, (_, i) => {
      const at = i * (1 + MAX_RANK);
      return Array.from(buffer.subarray(at + 1, at + 1 + buffer[at]));
    });
  }
}
