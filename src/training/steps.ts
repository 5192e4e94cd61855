import * as ops from '../ops/index.js';
import { foldIn } from '../core/rng.js';
import { disposeReplaced, fromLeaves, leaves, mapTree, type TensorTree } from '../core/tree.js';
import { computeLoss } from '../losses/index.js';
import { applyUpdates, type OptimizerState } from '../optimizers/index.js';
import type { Compiled } from './compile.js';
import type { Module } from './module.js';
import type { Batch, TrainState, Variables } from './types.js';
import { summedOutputs, type LossScale } from './split-losses.js';
import { computeInto, computeIntoHeap, inCompiledRegion, jitted, runStep } from '../ops/compiled/index.js';

/** What a step returns besides the new state: the total loss, each output's loss, and the predictions (for metrics). */
export interface StepResult {
  loss: ops.Scalar;
  outputLosses: ops.Scalar[];
  predictions: ops.Tensor[];
  /**
   * The whole batch's row count, targets and sample weights, when the step
   * was given only this member's rows of it (distributed training): the
   * losses and predictions are then the whole batch's, and the logs count
   * `rows`. Without metrics nothing reads predictions or targets, and both
   * may be empty.
   */
  targets?: { rows: number; y: ops.Tensor[]; sampleWeight: (ops.Tensor | null)[] | null };
}

/** A {@link LossScale} as the gradient step's inputs (`sum` only where an output's loss has reduction 'sum'). */
export type ScaleInputs = { mean: ops.Scalar; sum?: ops.Scalar };

/**
 * A loss scale as the gradient step's input tensors, which the caller
 * disposes. With compiled steps they are lent to the compiled backend: fed
 * to the graph (one graph serves every share), and a caller that replays
 * the step's graph (see StepPlan) can find them among its inputs.
 */
export function scaleInputs(compiled: Compiled, lossScale: LossScale): ScaleInputs {
  const scalar = (v: number) => ops.lentTensor(Float32Array.of(v), [], 'float32', () => {}) as ops.Scalar;
  return { mean: scalar(lossScale.mean), ...(summedOutputs(compiled).some(Boolean) ? { sum: scalar(lossScale.sum) } : {}) };
}

/** What the gradient step returns: the losses and predictions, the gradients, and the layer state after the forward pass. */
export interface GradientStepResult extends StepResult {
  /** Gradients of the total loss with respect to the trainable params, a tree keyed by their paths ('dense/kernel'). */
  grads: TensorTree;
  /** The layer state after the forward pass (BatchNormalization's moving statistics); unchanged entries keep their tensors. */
  state: TensorTree;
}

/**
 * The pure gradient step: (training state, batch) -> (gradients, losses,
 * predictions, new layer state). It runs the module in training mode with
 * the key of this step, adds regularisation to the loss and differentiates
 * only the trainable params. It disposes nothing it was given: the caller
 * owns the state it passed and every returned tensor. Data parallelism
 * all-reduces `grads` across replicas before {@link applyGradients}; a
 * replica passes how its part of the global batch counts as `lossScale`
 * (see split-losses.ts: its share for averaged losses, 1 for summed ones),
 * so that its gradients come out weighted (the losses it returns are not
 * scaled).
 */
export function gradientStep(module: Module, compiled: Compiled, ts: TrainState, batch: Batch, lossScale?: ScaleInputs): GradientStepResult {
  const trainable = module.trainablePaths(ts.params);
  const trainLeaves = leaves(ts.params).filter(([p]) => trainable.has(p));
  const key = foldIn(ts.key, ts.step);
  let captured: { state: TensorTree; outputLosses: ops.Scalar[]; predictions: ops.Tensor[]; total?: ops.Scalar } | undefined;
  let out: { grads: TensorTree; loss: ops.Scalar };
  try {
    out = ops.tidy(() => {
      const objective = (...weights: ops.Tensor[]): ops.Scalar => {
        const merged = withLeaves(ts.params, new Map(trainLeaves.map(([p], i) => [p, weights[i]])));
        const r = module.apply(merged, ts.state, batch.x.length === 1 ? batch.x[0] : batch.x, { training: true, key });
        const predictions = Array.isArray(r.outputs) ? r.outputs : [r.outputs];
        const outputLosses = predictions.map((yPred, i) => computeLoss(compiled.losses[i], batch.y[i], yPred, batch.sampleWeight?.[i] ?? null));
        let total = weightedSum(outputLosses, compiled.lossWeights);
        const reg = module.regularization(merged);
        if (reg) total = ops.add(total, reg);
        if (r.losses && r.losses.length) total = ops.add(total, ops.addN(r.losses));
        // Tensors made in here die with the gradient's forward scope unless kept.
        captured = {
          state: keepAll(r.state),
          outputLosses: outputLosses.map((l) => ops.keep(l)),
          predictions: predictions.map((p) => ops.keep(p)),
          total: lossScale ? ops.keep(total as ops.Scalar) : undefined,
        };
        if (!lossScale) return total as ops.Scalar;
        // mean * (total - summed) + sum * summed: outputs with reduction 'sum' add up across the members.
        const summed = lossScale.sum && summedPart(compiled, outputLosses);
        const scaled = ops.mul(total, lossScale.mean);
        return (summed ? ops.add(scaled, ops.mul(summed, ops.sub(lossScale.sum!, lossScale.mean))) : scaled) as ops.Scalar;
      };
      const { value, grads } = ops.valueAndGrads(objective)(trainLeaves.map(([, t]) => t));
      return { grads: fromLeaves<ops.Tensor>(trainLeaves.map(([p], i) => [p, grads[i]])), loss: captured!.total ?? value };
    });
  } catch (error) {
    // Tensors kept inside the forward pass would outlive a step that failed after it.
    if (captured) disposeReplaced(captured, ts.state);
    ops.releaseAbandonedTape();
    throw error;
  }
  const c = captured!;
  return { grads: out.grads, loss: out.loss, outputLosses: c.outputLosses, predictions: c.predictions, state: c.state };
}

/**
 * The pure update: (training state, gradients) -> next training state. The
 * optimizer turns the gradients into updates, which are added to the
 * trainable params; the layers' constraints project the result; the step
 * count goes up by one. The layer state passes through as given (put the
 * gradient step's `state` into `ts`). It disposes nothing it was given.
 */
export function applyGradients(module: Module, compiled: Compiled, ts: TrainState, grads: TensorTree): TrainState {
  const out = ops.tidy(() => {
    const trainable = module.trainablePaths(ts.params);
    const trainParams = fromLeaves<ops.Tensor>(leaves(ts.params).filter(([p]) => trainable.has(p)));
    const { params: updated, state: optState } = optimizerStep(compiled, trainParams, grads, ts.optState as OptimizerState);
    const params = module.constrain(withLeaves(ts.params, new Map(leaves(updated))));
    return { params, optState: optState as unknown as ops.TensorContainer };
  });
  return { params: out.params, state: ts.state, optState: out.optState, step: ts.step + 1, key: ts.key };
}

/**
 * The optimizer's step on `params` (no constraints, no step count): its
 * updates added to the params. In a compiled step the graph returns the
 * gradients and this runs fused on the host where the optimizer has a fused
 * form; elsewhere it is the traced (eager) update. Disposes nothing it was given.
 */
export function optimizerStep(compiled: Compiled, params: TensorTree, grads: TensorTree, state: OptimizerState): { params: TensorTree; state: OptimizerState } {
  const fused = inCompiledRegion() ? compiled.optimizer.applyFused?.(params, grads, state) : undefined;
  if (fused) return fused;
  const r = compiled.optimizer.update(grads, state, params);
  return { params: applyUpdates(params, r.updates), state: r.state };
}

/**
 * Runs `fn` (a step, or a part of one) as the local runner runs steps: in a
 * compiled region where compiled steps are on (an optimizer with a fused
 * form then uses it), eagerly for a model that has fallen back.
 */
export function runCompiled<T>(module: Module, fn: () => T): T {
  return runStep(module, `model '${module.name}'`, fn);
}

/**
 * The pure training step, {@link gradientStep} then {@link applyGradients}:
 * (training state, batch) -> (next training state, losses and
 * predictions). It disposes nothing it was given (the gradients it made
 * are freed): the caller owns the old state and every returned tensor.
 * In a compiled region the gradient step is traced once and replayed (its
 * random tensors made again from the step's key), and the update is traced
 * at every step, so that the optimizer's host-side numbers (bias
 * corrections, a learning rate a callback set) are this step's.
 */
export function trainStep(module: Module, compiled: Compiled, ts: TrainState, batch: Batch): { state: TrainState; result: StepResult } {
  const g = jittedGradientStep(module, compiled, ts, batch);
  let next: TrainState;
  try {
    next = applyGradients(module, compiled, { ...ts, state: g.state }, g.grads);
  } catch (error) {
    disposeReplaced({ s: g.state, l: g.loss, o: g.outputLosses, p: g.predictions }, ts.state);
    throw error;
  } finally {
    disposeReplaced(g.grads, next!);
  }
  return { state: next, result: { loss: g.loss, outputLosses: g.outputLosses, predictions: g.predictions } };
}

/**
 * {@link gradientStep} on its own, as the local runner runs a whole step:
 * where compiled steps are on, one native graph (traced once per input
 * signature and replayed); else, or for a model with a kernel that has no
 * lowering, eagerly. For runners that combine gradients before the update
 * (data parallelism): with `into` (arrays by param path), a compiled step
 * writes those gradients straight into them. The loss scale comes as
 * numbers, or as the caller's tensors (see scaleInputs). The caller owns
 * every returned tensor (and lends `into` until it disposes the gradients).
 */
export function runGradientStep(module: Module, compiled: Compiled, ts: TrainState, batch: Batch, lossScale?: LossScale | ScaleInputs, into?: ReadonlyMap<string, Float32Array>): GradientStepResult {
  const made = lossScale && typeof lossScale.mean === 'number' ? scaleInputs(compiled, lossScale as LossScale) : undefined;
  const scale = made ?? (lossScale as ScaleInputs | undefined);
  try {
    return runCompiled(module, () => {
      const g = jittedGradientStep(module, compiled, ts, batch, scale);
      // The gradients are read back by the caller: computed into its arrays (`into`, by path) or the fused heap, they are read in place (no fresh arrays per step).
      const grads = leaves(g.grads);
      if (into) computeInto(grads.flatMap(([path, t]) => (into.has(path) ? [[t, into.get(path)!] as [ops.Tensor, Float32Array]] : [])));
      computeIntoHeap(grads.map(([, t]) => t));
      return g;
    });
  } finally {
    if (made) ops.dispose([made.mean, ...(made.sum ? [made.sum] : [])]);
  }
}

/** {@link gradientStep}, traced once and replayed in a compiled region (per `compiled`, per input signature); the plain gradient step elsewhere. */
function jittedGradientStep(module: Module, compiled: Compiled, ts: TrainState, batch: Batch, lossScale?: ScaleInputs): GradientStepResult {
  type Inputs = { ts: TrainState; batch: Batch; lossScale?: ScaleInputs };
  return jitted(compiled, (a: Inputs) => gradientStep(module, compiled, a.ts, a.batch, a.lossScale), gradientJit)({ ts: { ...ts, optState: undefined }, batch, ...(lossScale ? { lossScale } : {}) });
}

/** The gradient step's randomness comes from the step count and the key. */
const gradientJit = { step: (a: { ts: TrainState }) => a.ts.step, key: (a: { ts: TrainState }) => a.ts.key };

/** The pure evaluation step: losses and predictions in inference mode. */
export function testStep(module: Module, compiled: Compiled, variables: Variables, batch: Batch): StepResult {
  return ops.tidy(() => {
    const r = module.apply(variables.params, variables.state, batch.x.length === 1 ? batch.x[0] : batch.x, { training: false });
    const predictions = Array.isArray(r.outputs) ? r.outputs : [r.outputs];
    const outputLosses = predictions.map((yPred, i) => computeLoss(compiled.losses[i], batch.y[i], yPred, batch.sampleWeight?.[i] ?? null));
    // Weight and activity regularisation count in training only.
    return { loss: weightedSum(outputLosses, compiled.lossWeights), outputLosses, predictions };
  });
}

/** The pure prediction step: outputs in inference mode. */
export function predictStep(module: Module, variables: Variables, x: ops.Tensor[]): ops.Tensor[] {
  return ops.tidy(() => {
    const r = module.apply(variables.params, variables.state, x.length === 1 ? x[0] : x, { training: false });
    return Array.isArray(r.outputs) ? r.outputs : [r.outputs];
  });
}

/** The part of the total loss from outputs with reduction 'sum' (undefined when there are none). */
function summedPart(compiled: Compiled, outputLosses: ops.Scalar[]): ops.Scalar | undefined {
  const summed = summedOutputs(compiled);
  const parts = outputLosses.flatMap((l, i) => (summed[i] ? [compiled.lossWeights[i] === 1 ? l : ops.mul(l, compiled.lossWeights[i])] : []));
  return parts.length > 0 ? (ops.addN(parts) as ops.Scalar) : undefined;
}

/** Keras's total loss: the output losses times their loss weights, summed. */
function weightedSum(losses: ops.Scalar[], weights: number[]): ops.Scalar {
  return ops.addN(losses.map((l, i) => (weights[i] === 1 ? l : ops.mul(l, weights[i])))) as ops.Scalar;
}

function keepAll(tree: TensorTree): TensorTree {
  for (const [, t] of leaves(tree)) ops.keep(t);
  return tree;
}

/**
 * `base` with the leaves at the given paths replaced. Paths, not nesting,
 * identify a weight: a layer may key its weights 'query/kernel'.
 */
function withLeaves(base: TensorTree, replacements: Map<string, ops.Tensor>): TensorTree {
  return mapTree(base, (t, path) => replacements.get(path) ?? t);
}
