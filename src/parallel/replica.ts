import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import { disposeReplaced, fromLeaves, leaves, mapTree } from '../core/tree.js';
import type { Compiled } from '../training/compile.js';
import type { Module } from '../training/module.js';
import { applyGradients, gradientStep, type StepResult } from '../training/steps.js';
import type { Batch, TrainState } from '../training/types.js';
import type { Collective } from './collective.js';

/** Where each gradient and each layer-state value sits in the fused buffer. */
export interface FusedLayout {
  grads: { path: string; shape: number[]; offset: number; size: number }[];
  state: { path: string; shape: number[]; offset: number; size: number }[];
  length: number;
}

/**
 * The fused-buffer layout of a training state: every trainable param's
 * gradient, then every float32 layer-state value (BatchNormalization's
 * moving statistics), in tree order. Replicas of one model get the same.
 */
export function fusedLayout(module: Module, ts: Pick<TrainState, 'params' | 'state'>): FusedLayout {
  const trainable = module.trainablePaths(ts.params);
  let offset = 0;
  const place = ([path, t]: [string, ops.Tensor]) => {
    const entry = { path, shape: [...t.shape], offset, size: t.size };
    offset += t.size;
    return entry;
  };
  const grads = leaves(ts.params).filter(([p]) => trainable.has(p)).map(place);
  const state = leaves(ts.state).filter(([, t]) => t.dtype === 'float32').map(place);
  return { grads, state, length: offset };
}

/** A replica's part of one step: the share of the global batch it holds, and the losses and predictions of its shard. */
export interface ReplicaStepResult {
  /** This shard's rows over the global batch's rows: each replica's loss counts in proportion. */
  share: number;
  /** The shard's losses and predictions; undefined for an empty shard. The caller owns them. */
  result: StepResult | undefined;
}

/**
 * One data-parallel replica, whatever carries its collective (shared memory
 * between threads, a relay between processes, Gloo between hosts). A step:
 * the gradient step on this replica's shard; its gradients and new layer
 * state, scaled by the shard's share of the global batch, fused into one
 * flat buffer (so that the sum over replicas is the whole-batch gradient,
 * regularisation counted once); one in-place all-reduce; then the same
 * update on every replica, which therefore all hold the same weights after
 * every step. Layer state (moving statistics) becomes the share-weighted
 * mean of the replicas' updates.
 *
 * Ownership: the replica owns its training state (the one given to the
 * constructor included) and disposes it on `dispose()`.
 */
export class Replica {
  private layout: FusedLayout;
  private readonly fused: Float32Array;

  constructor(
    readonly module: Module,
    private compiled: Compiled,
    private ts: TrainState,
    readonly collective: Collective,
    /** A flat buffer of the layout's length to fuse into: shared memory that is reduced in place, or any array. */
    buffer: (length: number) => Float32Array = (n) => new Float32Array(n),
  ) {
    this.layout = fusedLayout(module, ts);
    this.fused = buffer(this.layout.length);
  }

  /** The current training state, lent. */
  get state(): TrainState {
    return this.ts;
  }

  /**
   * Replaces the training state (weights, optimizer state or step set on
   * the main thread) and the compiled setup (a new learning rate); the old
   * state is disposed. The trainable set must stay the same: the fused
   * buffer's layout depends on it.
   */
  setState(next: TrainState, compiled: Compiled = this.compiled): void {
    const layout = fusedLayout(this.module, next);
    if (layout.length !== this.layout.length)
      throw new InvalidArgumentError('replica state', `a state with ${this.layout.length} fused values (the same trainable weights)`, layout.length);
    disposeReplaced(this.ts, next);
    this.ts = next;
    this.compiled = compiled;
    this.layout = layout;
  }

  /**
   * One step on this replica's shard of the global batch (`shard.x[0]` may
   * have no rows: the replica then contributes nothing but still takes part
   * in the all-reduce and the update). `globalRows` is the global batch's size.
   */
  async step(shard: Batch, globalRows: number): Promise<ReplicaStepResult> {
    const rows = shard.x[0].shape[0];
    const share = rows / globalRows;
    const g = rows > 0 ? gradientStep(this.module, this.compiled, this.ts, shard) : undefined;
    const result = g && { loss: g.loss, outputLosses: g.outputLosses, predictions: g.predictions };
    const made: ops.Tensor[] = [];
    try {
      const buf = this.fused;
      const gradOf = new Map(g ? leaves(g.grads) : []);
      const stateOf = new Map(g ? leaves(g.state) : []);
      for (const e of this.layout.grads) scaleInto(buf, e.offset, gradOf.get(e.path), e.size, share);
      for (const e of this.layout.state) scaleInto(buf, e.offset, stateOf.get(e.path), e.size, share);
      await this.collective.allReduce(buf);
      const view = (e: FusedLayout['grads'][number]) => {
        const t = ops.tensor(ownedCopy(buf.subarray(e.offset, e.offset + e.size)), e.shape);
        made.push(t);
        return t;
      };
      const grads = fromLeaves(this.layout.grads.map((e) => [e.path, view(e)] as [string, ops.Tensor]));
      const reduced = new Map(this.layout.state.map((e) => [e.path, view(e)]));
      // Non-float state (none in Keras's layers) keeps this replica's own value.
      const state = mapTree(this.ts.state, (t, path) => reduced.get(path) ?? stateOf.get(path) ?? t);
      const next = applyGradients(this.module, this.compiled, { ...this.ts, state }, grads);
      disposeReplaced({ p: this.ts.params, s: this.ts.state, o: this.ts.optState, g: g?.state, made }, next);
      this.ts = next;
    } catch (error) {
      if (result) ops.dispose([result.loss, ...result.outputLosses, ...result.predictions]);
      disposeReplaced({ g: g?.state, made }, this.ts);
      throw error;
    } finally {
      if (g) ops.dispose(leaves(g.grads).map(([, t]) => t));
    }
    return { share, result };
  }

  /** Frees the training state; the collective is closed. */
  async dispose(): Promise<void> {
    disposeReplaced(this.ts, undefined);
    await this.collective.close();
  }
}

/** `buf[offset..offset+size) = share * values` (zeros for a replica with no rows). */
function scaleInto(buf: Float32Array, offset: number, t: ops.Tensor | undefined, size: number, share: number): void {
  if (!t || share === 0) {
    buf.fill(0, offset, offset + size);
    return;
  }
  const values = t.dataSync() as Float32Array;
  if (share === 1) buf.set(values, offset);
  else for (let k = 0; k < size; k++) buf[offset + k] = values[k] * share;
}

/**
 * The values of a view for a new tensor: the wasm backend copies them into
 * its heap; the cpu backend keeps the array it is given, so it gets a copy
 * (the fused buffer is overwritten every step).
 */
function ownedCopy(view: Float32Array): Float32Array {
  return ops.getBackend() === 'wasm' ? view : view.slice();
}
