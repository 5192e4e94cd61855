import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import { disposeReplaced, fromLeaves, leaves, mapTree, type TensorTree } from '../core/tree.js';
import { findSlots, rebuild, type Optimizer, type OptimizerState } from '../optimizers/index.js';
import { compiledStepsEnabled, fastestFusedKernels, readInto, runFusedRule, type FusedKernels } from '../ops/compiled/index.js';
import type { Module } from '../training/module.js';
import { UPDATE_SLOTS } from './shared-memory-collective.js';
import type { InPlaceRegions } from './collective.js';
import { kernelsOver } from './shared-sum.js';
import type { FusedEntry } from './fused-layout.js';

/**
 * A replica's sharded update in the group's shared memory: the weights and
 * this replica's optimizer slots live there, at their offsets of the fused
 * layout, and after the reduce-scatter the fused-update kernel (built over
 * the shared memory) updates this replica's range of them in place, reading
 * the summed gradients where the reduce-scatter left them. The training
 * state's trainable params and slots are views of that memory lent to the
 * compiled backend: the next step's graph reads the weights every replica
 * wrote, and nothing is copied in or out of a replica's own heap.
 *
 * Without it (an optimizer with no fused form, constraints, eager steps, a
 * group too large for a WebAssembly memory) a replica copies its range of
 * the weights and gradients into its heap, updates them there and copies
 * them back (Replica.shardedUpdate).
 *
 * With `whole`, the replica's optimizer state holds every weight's slots
 * (views of the whole slot regions, which the members' updates fill
 * together) instead of its range's: a whole training state, for a member
 * whose caller keeps one (a distributed process, see DistributedStep).
 */
export class InPlaceUpdate {
  /** This replica's slot trees, by slot name: views of the slot regions, the same at every step. */
  private slotTrees = new Map<string, TensorTree>();
  /** Counts adoptions: a view of an earlier one that goes is no news. */
  private generation = 0;
  private viewLeft = false;

  private constructor(
    private readonly regions: InPlaceRegions,
    private readonly kernels: FusedKernels,
    private readonly optimizer: Optimizer,
    /** Every trainable param's place (the weights region holds them all). */
    private readonly params: FusedEntry[],
    /** This replica's pieces: what it updates (and holds the slots of, unless `held` says otherwise). */
    private readonly pieces: FusedEntry[],
    /** The entries whose slots this replica's optimizer state holds. */
    private readonly held: FusedEntry[],
  ) {}

  /**
   * The update for a replica whose pieces are `pieces` of the fused layout's
   * `params`, or undefined where it cannot run in place (see the class comment).
   */
  static open(regions: InPlaceRegions | undefined, module: Module, optimizer: Optimizer, ts: { params: TensorTree; optState: OptimizerState }, params: FusedEntry[], pieces: FusedEntry[], whole = false): InPlaceUpdate | undefined {
    if (!regions || !compiledStepsEnabled() || optimizer.slotNames.length > UPDATE_SLOTS || !optimizer.fusedRule?.(ts.optState)) return undefined;
    const paramOf = new Map(leaves(ts.params));
    if (params.some((e) => paramOf.get(e.path)?.dtype !== 'float32')) return undefined;
    // A layer constraint rewrites the weights after the update, on every replica: those are updated in the heap.
    const constrained = leaves(module.constrain(ts.params)).some(([path, t]) => t !== paramOf.get(path));
    const wasm = constrained ? undefined : kernelsOver<FusedKernels>('fused-update/build/fused-update-shared.wasm', regions.memory);
    const kernels = wasm && fastestFusedKernels(regions.memory, wasm);
    return kernels && new InPlaceUpdate(regions, kernels, optimizer, params, pieces, whole ? params : pieces);
  }

  /**
   * Writes the weights (all of them: every replica writes the same values,
   * before any step reads them) and the slots it holds into shared memory;
   * returns the params and optimizer state with those values as lent views
   * of it. What they replace is disposed.
   */
  adopt(params: TensorTree, optState: OptimizerState): { params: TensorTree; optState: OptimizerState } {
    const generation = ++this.generation;
    this.viewLeft = false;
    // An eager op on a view moves its values out of the compiled backend (a copy comes back): the next graph would read that copy.
    const lend = (region: Float32Array, e: FusedEntry) =>
      ops.lentTensor(region.subarray(e.offset, e.offset + e.size), e.shape, 'float32', () => void (generation === this.generation && (this.viewLeft = true)));
    const place = new Map(this.params.map((e) => [e.path, e]));
    const lentParams = mapTree(params, (t, path) => {
      const e = place.get(path);
      if (!e) return t;
      readInto(t, this.regions.weights.subarray(e.offset, e.offset + e.size));
      t.dispose();
      return lend(this.regions.weights, e);
    });
    const found = findSlots(optState.inner, this.optimizer.slotNames, []);
    this.slotTrees = new Map(this.optimizer.slotNames.map((name, k) => {
      const tree = found.trees.get(name)!;
      const slotOf = new Map(leaves(tree));
      const out = this.regions.slots[k];
      return [name, fromLeaves(this.held.map((p) => {
        readInto(slotOf.get(p.path)!, out.subarray(p.offset, p.offset + p.size));
        return [p.path, lend(out, p)] as [string, ops.Tensor];
      }))];
    }));
    const lentState: OptimizerState = { ...optState, inner: rebuild(optState.inner, this.slotTrees, new Map(), optState.iterations) as OptimizerState['inner'] };
    disposeReplaced(optState.inner, lentState.inner);
    return { params: lentParams, optState: lentState };
  }

  /**
   * Whether a weight or slot of the last adoption no longer views shared
   * memory (it was disposed, or an eager op moved its values out): the
   * state must be adopted again before the next step.
   */
  get detached(): boolean {
    return this.viewLeft;
  }

  /** The part of the fused buffer this replica's update reads gradients from (its pieces, first to last); undefined where it has none. */
  get range(): [number, number] | undefined {
    if (this.pieces.length === 0) return undefined;
    const last = this.pieces[this.pieces.length - 1];
    return [this.pieces[0].offset, last.offset + last.size];
  }

  /**
   * This replica's range of the weights and slots updated in place from the
   * summed gradients in the result region (after the reduce-scatter, before
   * the all-gather), or, with `addends` (the members' slots, one or two),
   * from them over `range`, two summed as they are read; returns
   * the optimizer state after the step (the same slot views; the old
   * state's other values are the caller's to dispose).
   */
  apply(optState: OptimizerState, addends?: readonly Float32Array[]): OptimizerState {
    const rule = this.optimizer.fusedRule!(optState);
    // Checked when the state was adopted; only a schedule that stops giving numbers gets here.
    if (!rule) throw new InvalidArgumentError(`${this.optimizer.className} hyper-parameters at step ${optState.iterations}`, 'numbers (the replicas update their weights with the fused rule)', optState.hyperparams);
    const { weights, result, slots } = this.regions;
    const names = this.optimizer.slotNames;
    const range = this.range;
    if (range) {
      // One pass over the range: the kernel writes whole 4-float vectors, so a pass per piece would run into the next
      // piece's first values. The range ends on a 16-float bound, or where the gradients end (what follows is unused).
      const [from, to] = range;
      const at = (r: Float32Array) => r.byteOffset + from * 4;
      const s = Object.fromEntries(names.map((name, k) => [name, at(slots[k])]));
      const grads = !addends ? at(result) : addends.length === 1 ? at(addends[0]) : ([at(addends[0]), at(addends[1])] as const);
      runFusedRule(this.kernels, rule, to - from, at(weights), grads, s, at(weights), s);
    }
    const iterations = optState.iterations + 1;
    return { iterations, hyperparams: { ...optState.hyperparams }, inner: rebuild(optState.inner, this.slotTrees, new Map(), iterations) as OptimizerState['inner'] };
  }
}

