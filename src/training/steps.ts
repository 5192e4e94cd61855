import * as ops from '../ops/index.js';
import { foldIn } from '../core/rng.js';
import { releaseAbandonedTape } from '../ops/index.js';
import { disposeReplaced, fromLeaves, leaves, mapTree, type TensorTree } from '../core/tree.js';
import type { Model } from '../models/model.js';
import { computeLoss } from '../losses/index.js';
import { applyUpdates, type OptimizerState } from '../optimizers/index.js';
import type { Compiled } from './compile.js';
import type { Batch, TrainState } from './types.js';

/** What a step returns besides the new state: the total loss, each output's loss, and the predictions (for metrics). */
export interface StepResult {
  loss: ops.Scalar;
  outputLosses: ops.Scalar[];
  predictions: ops.Tensor[];
}

/**
 * The pure training step: (training state, batch) -> (new training state,
 * losses and predictions). It differentiates only the trainable params,
 * adds regularisation in training mode, applies the optimizer's updates and
 * the layers' constraints. It disposes nothing it was given: the caller owns
 * the old state and every returned tensor.
 */
export function trainStep(model: Model, compiled: Compiled, ts: TrainState, batch: Batch): { state: TrainState; result: StepResult } {
  const trainable = model.trainablePaths(ts.params);
  const trainLeaves = leaves(ts.params).filter(([p]) => trainable.has(p));
  const key = foldIn(ts.key, ts.step);
  let captured: { state: TensorTree; outputLosses: ops.Scalar[]; predictions: ops.Tensor[] } | undefined;
  let out: { params: TensorTree; optState: ops.TensorContainer; loss: ops.Scalar };
  try {
  out = ops.tidy(() => {
    const objective = (...weights: ops.Tensor[]): ops.Scalar => {
      const merged = withLeaves(ts.params, new Map(trainLeaves.map(([p], i) => [p, weights[i]])));
      const r = model.apply(merged, ts.state, batch.x.length === 1 ? batch.x[0] : batch.x, { training: true, key });
      const predictions = Array.isArray(r.outputs) ? r.outputs : [r.outputs];
      const outputLosses = predictions.map((yPred, i) =>
        computeLoss(compiled.losses[i], batch.y[i], yPred, batch.sampleWeight?.[i] ?? null),
      );
      let total = ops.addN(outputLosses.map((l, i) => (compiled.lossWeights[i] === 1 ? l : ops.mul(l, compiled.lossWeights[i]))));
      const reg = model.regularization(merged);
      if (reg) total = ops.add(total, reg);
      if (r.losses && r.losses.length) total = ops.add(total, ops.addN(r.losses));
      // Tensors made in here die with the gradient's forward scope unless kept.
      captured = {
        state: keepAll(r.state),
        outputLosses: outputLosses.map((l) => ops.keep(l)),
        predictions: predictions.map((p) => ops.keep(p)),
      };
      return total as ops.Scalar;
    };
    const { value, grads } = ops.valueAndGrads(objective)(trainLeaves.map(([, t]) => t));
    const gradTree = fromLeaves<ops.Tensor>(trainLeaves.map(([p], i) => [p, grads[i]]));
    const trainParams = fromLeaves<ops.Tensor>(trainLeaves);
    const { updates, state: optState } = compiled.optimizer.update(gradTree, ts.optState as OptimizerState, trainParams);
    const updated = applyUpdates(trainParams, updates);
    const params = model.constrain(withLeaves(ts.params, new Map(leaves(updated))));
    return { params, optState: optState as unknown as ops.TensorContainer, loss: value };
  });
  } catch (error) {
    // Tensors kept inside the forward pass would outlive a step that failed after it.
    if (captured) disposeReplaced(captured, ts.state);
    releaseAbandonedTape();
    throw error;
  }
  const c = captured!;
  // Layer state the batch did not change keeps its tensors; kept tensors must be untracked-safe.
  return {
    state: { params: out.params, state: c.state, optState: out.optState, step: ts.step + 1, key: ts.key },
    result: { loss: out.loss, outputLosses: c.outputLosses, predictions: c.predictions },
  };
}

/** The pure evaluation step: losses and predictions in inference mode. */
export function testStep(model: Model, compiled: Compiled, ts: Pick<TrainState, 'params' | 'state'>, batch: Batch): StepResult {
  return ops.tidy(() => {
    const r = model.apply(ts.params, ts.state, batch.x.length === 1 ? batch.x[0] : batch.x, { training: false });
    const predictions = Array.isArray(r.outputs) ? r.outputs : [r.outputs];
    const outputLosses = predictions.map((yPred, i) => computeLoss(compiled.losses[i], batch.y[i], yPred, batch.sampleWeight?.[i] ?? null));
    // Weight and activity regularisation count in training only.
    const loss = ops.addN(outputLosses.map((l, i) => (compiled.lossWeights[i] === 1 ? l : ops.mul(l, compiled.lossWeights[i]))));
    return { loss: loss as ops.Scalar, outputLosses, predictions };
  });
}

/** The pure prediction step: outputs in inference mode. */
export function predictStep(model: Model, ts: Pick<TrainState, 'params' | 'state'>, x: ops.Tensor[]): ops.Tensor[] {
  return ops.tidy(() => {
    const r = model.apply(ts.params, ts.state, x.length === 1 ? x[0] : x, { training: false });
    return Array.isArray(r.outputs) ? r.outputs : [r.outputs];
  });
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
