/**
 * StepPlan: a gradient step captured as the session it ran, and run again
 * on the next step's arrays without a trace. Its results equal the traced
 * step's on the same inputs; it holds only where two captures agree and
 * every input is fed (a random mask made again each step, or an input small
 * enough to be baked into the graph, leaves no plan).
 */
import { backendReady } from '../../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCompiledSteps } from '../../helpers/compiled.js';
import * as rx from '../../../src/index.js';
import * as ops from '../../../src/ops/index.js';
import { leaves } from '../../../src/core/tree.js';
import { compiled, compiledBackend, StepPlan } from '../../../src/ops/compiled/index.js';
import { startState } from '../../../src/training/setup.js';
import { runGradientStep, scaleInputs } from '../../../src/training/steps.js';
import type { Batch, TrainState } from '../../../src/training/types.js';

const ROWS = 8;

function model(dropout: boolean): rx.Sequential {
  const m = new rx.Sequential({
    layers: [
      rx.Dense({ units: 24, activation: 'relu', input_shape: [20], kernel_regularizer: 'l2' }),
      ...(dropout ? [rx.Dropout({ rate: 0.5 })] : []),
      rx.Dense({ units: 3, activation: 'softmax' }),
    ],
  });
  m.build(5);
  m.compile({ optimizer: rx.Adam(), loss: 'categorical_crossentropy' }, 5);
  return m;
}

/** A batch of lent arrays (fed to the graph as they are), seeded. */
function batch(seed: number, rows = ROWS): Batch {
  const x = Float32Array.from({ length: rows * 20 }, (_, i) => Math.sin(seed * 131 + i));
  const y = Float32Array.from({ length: rows * 3 }, (_, i) => (i % 3 === (Math.floor(i / 3) + seed) % 3 ? 1 : 0));
  return { x: [ops.lentTensor(x, [rows, 20], 'float32', () => {})], y: [ops.lentTensor(y, [rows, 3], 'float32', () => {})], sampleWeight: null };
}

/** A gradient step of `m` as a replica runs it: gradients into `into`, the loss scaled by a fed share. */
function stepper(m: rx.Model) {
  const ts: TrainState = startState(m, m.compiled!, m.variables!).state;
  const compiled = m.compiled!.compiled;
  const into = new Map(leaves(ts.params).map(([path, t]) => [path, new Float32Array(t.size)]));
  const scale = scaleInputs(compiled, { mean: 0.5, sum: 1 });
  const inputs = (b: Batch) => [...leaves(ts.params).map(([, t]) => t), ...b.x, ...b.y, scale.mean];
  const capture = (b: Batch) =>
    StepPlan.capture(() => runGradientStep(m, compiled, ts, b, scale, into), inputs(b), (g) => [g.loss, ...g.outputLosses, ...g.predictions]);
  return { into, inputs, capture, dispose: () => ops.dispose([scale.mean, ...(scale.sum ? [scale.sum] : [])]) };
}

/** The plans of three steps on new batches (the jit traces two steps, then replays). */
function threeCaptures(s: ReturnType<typeof stepper>): (StepPlan | undefined)[] {
  return [1, 2, 3].map((seed) => {
    const b = batch(seed);
    const { result, plan } = s.capture(b);
    ops.dispose([result.loss, ...result.outputLosses, ...result.predictions, ...leaves(result.grads).map(([, t]) => t), ...b.x, ...b.y]);
    return plan;
  });
}

const snapshot = (into: Map<string, Float32Array>) => [...into.values()].map((a) => Array.from(a));

test('a plan captured from two repeating steps gives the traced step\'s loss, predictions and gradients on a new batch', withCompiledSteps(() => {
  const m = model(false);
  const s = stepper(m);
  const plans = threeCaptures(s);
  assert.ok(plans[1] && plans[2], 'each step ran one graph from its inputs');
  assert.ok(plans[1]!.sameAs(plans[2]!), 'the replayed steps run the same session the same way');

  const b = batch(4);
  const traced = s.capture(b).result;
  const expected = { loss: traced.loss.dataSync()[0], predictions: Array.from(traced.predictions[0].dataSync()), grads: snapshot(s.into) };
  for (const a of s.into.values()) a.fill(NaN);
  const values = plans[2]!.run(s.inputs(b));
  assert.ok(values, 'the plan ran');
  const [loss, outputLoss, predictions] = values!;
  assert.ok(Math.abs(loss[0] - expected.loss) <= 1e-6 * Math.abs(expected.loss), `loss ${loss[0]} vs traced ${expected.loss}`);
  assert.ok(Math.abs(outputLoss[0] - traced.outputLosses[0].dataSync()[0]) <= 1e-6, 'output loss');
  Array.from(predictions).forEach((v, i) => assert.ok(Math.abs(v - expected.predictions[i]) <= 1e-6, `prediction ${i}: ${v} vs ${expected.predictions[i]}`));
  snapshot(s.into).forEach((g, k) => g.forEach((v, i) => assert.ok(Math.abs(v - expected.grads[k][i]) <= 1e-6, `gradient ${k}[${i}]: ${v} vs ${expected.grads[k][i]}`)));
  assert.ok(expected.grads.some((g) => g.some((v) => v !== 0)), 'the gradients are not all zero');

  const small = batch(5, ROWS - 1);
  assert.equal(plans[2]!.run(s.inputs(small)), undefined, 'another batch shape runs nothing');
  ops.dispose([traced.loss, ...traced.outputLosses, ...traced.predictions, ...leaves(traced.grads).map(([, t]) => t), ...b.x, ...b.y, ...small.x, ...small.y]);
  s.dispose();
  m.dispose();
}));

test('a step with dropout (a mask made again at every step) never repeats: two captures differ', withCompiledSteps(() => {
  const m = model(true);
  const s = stepper(m);
  const plans = threeCaptures(s);
  assert.ok(!(plans[1] && plans[2] && plans[1].sameAs(plans[2])), 'no two captures agree');
  s.dispose();
  m.dispose();
}));

test('an input small enough to be baked into the graph (a host constant of the compiled backend) leaves no plan', withCompiledSteps(() => {
  const m = model(false);
  const s = stepper(m);
  // Made in a compiled region, the targets are a host constant there: 3 values, which a graph bakes in.
  const y = compiled(() => ops.keep(ops.tensor([[0, 1, 0]], [1, 3])));
  assert.equal(compiledBackend().valueIfPresent(y.dataId)?.hostConstant, true);
  const tiny: Batch = { x: [ops.lentTensor(Float32Array.from({ length: 20 }, (_, i) => i / 20), [1, 20], 'float32', () => {})], y: [y], sampleWeight: null };
  const { result, plan } = s.capture(tiny);
  assert.equal(plan, undefined);
  ops.dispose([result.loss, ...result.outputLosses, ...result.predictions, ...leaves(result.grads).map(([, t]) => t), ...tiny.x, ...tiny.y]);
  s.dispose();
  m.dispose();
}));
