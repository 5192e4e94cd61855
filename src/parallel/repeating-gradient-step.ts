import * as ops from '../ops/index.js';
import { leaves, type TensorTree } from '../core/tree.js';
import { compiledStepsEnabled, fallbackReason, StepPlan } from '../ops/compiled/index.js';
import type { Compiled } from '../training/compile.js';
import type { Module } from '../training/module.js';
import { runGradientStep, scaleInputs, type GradientStepResult } from '../training/steps.js';
import type { LossScale } from '../training/split-losses.js';
import type { Batch, TrainState } from '../training/types.js';

/** A gradient step's result; `grads` is absent when the step ran its captured graph (the gradients are in `into` then). */
export type PlannedGradientResult = Omit<GradientStepResult, 'grads'> & { grads?: TensorTree };

/**
 * The gradient step of a data-parallel member (a replica, a process): the
 * gradients written into the member's parts of its fused buffer (`into`),
 * the loss scaled by the member's share inside the step. With compiled
 * steps a step that repeats (same setup and shapes, no layer state) runs
 * the session it captured again (see StepPlan), once two steps in a row ran
 * the same session the same way: no tfjs dispatch, trace or flush per step.
 * Any change (shapes, session released) falls back to the traced step; a
 * new training state or setup must `reset()` it.
 */
export class RepeatingGradientStep {
  private plan: { plan: StepPlan; losses: number; shapes: number[][]; confirmed: boolean } | undefined;
  /** Gradient steps that ran a captured session, in this thread (for tests). */
  static planned = 0;

  constructor(
    private readonly module: Module,
    private readonly into: () => ReadonlyMap<string, Float32Array>,
  ) {}

  reset(): void {
    this.plan = undefined;
  }

  /** The step on `batch` (with rows) from `ts`; the caller owns the returned tensors. */
  run(compiled: Compiled, ts: TrainState, batch: Batch, lossScale: LossScale | undefined): PlannedGradientResult {
    const scale = lossScale && scaleInputs(compiled, lossScale);
    const inputs = [
      ...leaves(ts.params).map(([, t]) => t),
      ...batch.x,
      ...batch.y,
      ...(batch.sampleWeight ?? []).filter((t): t is ops.Tensor => t !== null),
      ...(scale ? [scale.mean, ...(scale.sum ? [scale.sum] : [])] : []),
    ];
    try {
      const planned = this.plan;
      if (planned?.confirmed) {
        const values = planned.plan.run(inputs);
        if (values) {
          RepeatingGradientStep.planned++;
          const [loss, ...rest] = values.map((v, i) => ops.lentTensor(v as Float32Array, planned.shapes[i], 'float32', () => {}));
          return { loss: loss as ops.Scalar, outputLosses: rest.slice(0, planned.losses) as ops.Scalar[], predictions: rest.slice(planned.losses), state: {} };
        }
        this.plan = undefined;
      }
      const step = () => runGradientStep(this.module, compiled, ts, batch, scale, this.into());
      if (!compiledStepsEnabled() || fallbackReason(this.module) || leaves(ts.state).length > 0) return step();
      const { result: g, plan } = StepPlan.capture(step, inputs, (r) => [r.loss, ...r.outputLosses, ...r.predictions]);
      const outputs = [g.loss, ...g.outputLosses, ...g.predictions];
      this.plan =
        plan && leaves(g.state).length === 0 && outputs.every((t) => t.dtype === 'float32')
          ? { plan, losses: g.outputLosses.length, shapes: outputs.map((t) => [...t.shape]), confirmed: planned !== undefined && planned.plan.sameAs(plan) }
          : undefined;
      return g;
    } finally {
      if (scale) ops.dispose([scale.mean, ...(scale.sum ? [scale.sum] : [])]);
    }
  }
}
