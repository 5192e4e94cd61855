import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { applyUpdates, disposeState, getOptimizer, getSchedule, type OptimizerSpec } from '../../src/optimizers/index.js';
import { disposeTree, leaves, type TensorTree } from '../../src/core/tree.js';
import { assertClose, kerasReference } from './reference.js';
import { needsPython } from '../helpers/python.js';

// Two parameters (a 2x3 kernel and a bias) and four steps of fixed gradients
// whose magnitudes vary (so that clipping, AMSGrad's max and Adamax's max all bite).
const kernel0 = [0.5, -1.2, 0.3, 2.0, -0.7, 0.1];
const bias0 = [0.2, -0.4, 1.5];
const STEPS = 4;
const grads = Array.from({ length: STEPS }, (_, s) => {
  const size = [1.6, 0.4, 1.1, 0.2][s];
  const k = kernel0.map((_, i) => (i === 4 ? 0 : Math.sin(0.9 * i + 1.7 * s + 0.3) * size));
  const b = bias0.map((_, i) => Math.cos(1.3 * i + 0.8 * s) * 0.3 * size);
  return [k, b];
});

const cases: OptimizerSpec[] = [
  { class_name: 'SGD', config: { learning_rate: 0.1 } },
  { class_name: 'SGD', config: { learning_rate: 0.1, momentum: 0.9 } },
  { class_name: 'SGD', config: { learning_rate: 0.1, momentum: 0.9, nesterov: true } },
  { class_name: 'RMSprop', config: { learning_rate: 0.01 } },
  { class_name: 'RMSprop', config: { learning_rate: 0.01, centered: true } },
  { class_name: 'RMSprop', config: { learning_rate: 0.01, momentum: 0.5, epsilon: 1e-3 } },
  { class_name: 'RMSprop', config: { learning_rate: 0.01, momentum: 0.5, centered: true, rho: 0.8, epsilon: 1e-3 } },
  { class_name: 'Adam', config: { learning_rate: 0.05 } },
  { class_name: 'Adam', config: { learning_rate: 0.05, amsgrad: true, beta_2: 0.9 } },
  { class_name: 'Adam', config: { learning_rate: 0.05, epsilon: 0.1, beta_1: 0.8 } },
  { class_name: 'Adagrad', config: { learning_rate: 0.1 } },
  { class_name: 'Adagrad', config: { learning_rate: 0.1, initial_accumulator_value: 0.5, epsilon: 0.01 } },
  { class_name: 'Adadelta', config: { learning_rate: 1.0 } },
  { class_name: 'Adadelta', config: { learning_rate: 1.0, rho: 0.9, epsilon: 1e-2 } },
  { class_name: 'Adamax', config: { learning_rate: 0.05 } },
  { class_name: 'Nadam', config: { learning_rate: 0.05 } },
  { class_name: 'Nadam', config: { learning_rate: 0.05, schedule_decay: 0.5, beta_2: 0.99 } },
  // clipping (Keras order: clipvalue, clipnorm, global_clipnorm)
  { class_name: 'SGD', config: { learning_rate: 0.1, clipnorm: 0.5 } },
  { class_name: 'SGD', config: { learning_rate: 0.1, clipvalue: 0.3 } },
  { class_name: 'Adam', config: { learning_rate: 0.05, global_clipnorm: 0.4 } },
  { class_name: 'RMSprop', config: { learning_rate: 0.01, clipvalue: 0.5, clipnorm: 0.8 } },
  { class_name: 'Adamax', config: { learning_rate: 0.05, clipnorm: 0.7 } },
  // legacy `lr` and time-based `decay`
  { class_name: 'Adam', config: { lr: 0.05, learning_rate: 123, decay: 0.5 } },
  { class_name: 'SGD', config: { learning_rate: 0.1, momentum: 0.9, decay: 0.3 } },
  { class_name: 'Adagrad', config: { learning_rate: 0.1, decay: 1.0 } },
  { class_name: 'Nadam', config: { learning_rate: 0.05, decay: 0.9 } },
  // schedules as learning_rate (evaluated at iterations before the update), also with decay
  { class_name: 'SGD', config: { learning_rate: { class_name: 'ExponentialDecay', config: { initial_learning_rate: 0.1, decay_steps: 2, decay_rate: 0.5 } }, momentum: 0.5 } },
  { class_name: 'Adam', config: { learning_rate: { class_name: 'PiecewiseConstantDecay', config: { boundaries: [1, 2], values: [0.1, 0.05, 0.01] } }, decay: 0.1 } },
  { class_name: 'Adagrad', config: { learning_rate: { class_name: 'CosineDecay', config: { initial_learning_rate: 0.2, decay_steps: 3, alpha: 0.1 } } } },
  { class_name: 'RMSprop', config: { learning_rate: { class_name: 'PolynomialDecay', config: { initial_learning_rate: 0.02, decay_steps: 3, power: 2 } }, momentum: 0.3 } },
];

interface Reference {
  optimizers: { params: number[][][]; weights: number[][] }[];
  schedules: number[][];
}

const scheduleCases = [
  { class_name: 'ExponentialDecay', config: { initial_learning_rate: 0.1, decay_steps: 3, decay_rate: 0.7 } },
  { class_name: 'ExponentialDecay', config: { initial_learning_rate: 0.1, decay_steps: 3, decay_rate: 0.7, staircase: true } },
  { class_name: 'PiecewiseConstantDecay', config: { boundaries: [2, 5, 10], values: [1.0, 0.5, 0.1, 0.01] } },
  { class_name: 'PolynomialDecay', config: { initial_learning_rate: 0.1, decay_steps: 10 } },
  { class_name: 'PolynomialDecay', config: { initial_learning_rate: 0.1, decay_steps: 10, end_learning_rate: 0.01, power: 0.5, cycle: true } },
  { class_name: 'InverseTimeDecay', config: { initial_learning_rate: 0.1, decay_steps: 4, decay_rate: 0.5 } },
  { class_name: 'InverseTimeDecay', config: { initial_learning_rate: 0.1, decay_steps: 4, decay_rate: 0.5, staircase: true } },
  { class_name: 'CosineDecay', config: { initial_learning_rate: 0.1, decay_steps: 12 } },
  { class_name: 'CosineDecay', config: { initial_learning_rate: 0.1, decay_steps: 12, alpha: 0.2 } },
  { class_name: 'CosineDecayRestarts', config: { initial_learning_rate: 0.1, first_decay_steps: 5 } },
  { class_name: 'CosineDecayRestarts', config: { initial_learning_rate: 0.1, first_decay_steps: 4, t_mul: 1.0, m_mul: 0.5, alpha: 0.1 } },
];
const scheduleSteps = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 17, 20, 31, 40, 100];

const skip = needsPython('numpy');
const reference = skip
  ? undefined
  : kerasReference<Reference>({
      optimizers: cases.map((c) => ({ ...c, params: [kernel0, bias0], grads })),
      schedules: scheduleCases.map((s) => ({ ...s, steps: scheduleSteps })),
    });

function tree(k: number[], b: number[]): TensorTree {
  return { dense: { kernel: tf.tensor2d(k, [2, 3]), bias: tf.tensor1d(b) } };
}

cases.forEach((spec, n) => {
  test(`${spec.class_name} ${JSON.stringify(spec.config)} matches the float64 tf.keras 2 reference`, { skip }, () => {
    const opt = getOptimizer(spec);
    let params = tree(kernel0, bias0);
    let state = opt.init(params);
    const expected = reference!.optimizers[n];
    for (let s = 0; s < STEPS; s++) {
      const g = tree(grads[s][0], grads[s][1]);
      const { updates, state: next } = opt.update(g, state, params);
      disposeState(state);
      state = next;
      const p2 = applyUpdates(params, updates);
      disposeTree(g);
      disposeTree(updates);
      disposeTree(params);
      params = p2;
      const got = leaves(params).map(([, t]) => Array.from(t.dataSync()));
      assertClose(got[0], expected.params[s][0], { rtol: 1e-5, atol: 1e-7 }, `step ${s + 1} kernel`);
      assertClose(got[1], expected.params[s][1], { rtol: 1e-5, atol: 1e-7 }, `step ${s + 1} bias`);
    }
    const weights = opt.weights(state);
    assert.equal(weights.length, expected.weights.length, `number of weights: ${weights.map(([name]) => name).join(', ')}`);
    // Slots are compared element-wise within 1e-5 relative, plus 1e-6 of the tensor's largest
    // magnitude: an element that is a float32 sum of cancelling terms carries that much rounding.
    weights.forEach(([name, t], i) => {
      const scale = Math.max(...expected.weights[i].map(Math.abs));
      assertClose(Array.from(t.dataSync()), expected.weights[i], { rtol: 1e-5, atol: 1e-6 * scale }, name);
    });
    tf.dispose(weights.map(([, t]) => t));
    disposeState(state);
    disposeTree(params);
  });
});

scheduleCases.forEach((spec, n) => {
  test(`schedule ${spec.class_name} ${JSON.stringify(spec.config)} matches Keras's formula`, { skip }, () => {
    const schedule = getSchedule(spec);
    assertClose(
      scheduleSteps.map((s) => schedule(s)),
      reference!.schedules[n],
      { rtol: 1e-12, atol: 1e-15 },
      spec.class_name,
    );
  });
});

test('the Keras docstring examples give the documented numbers', () => {
  // keras/optimizers/optimizer_v2/*.py usage examples: var = 10 (1 for SGD), loss = var^2 / 2, so grad = var.
  const run = (spec: OptimizerSpec, v0: number, steps: number): number[] => {
    const opt = getOptimizer(spec);
    let p: TensorTree = { var: tf.scalar(v0) };
    let state = opt.init(p);
    const values: number[] = [];
    for (let i = 0; i < steps; i++) {
      const g = { var: (p.var as tf.Tensor).clone() };
      const r = opt.update(g, state, p);
      disposeState(state);
      state = r.state;
      const p2 = applyUpdates(p, r.updates);
      disposeTree(g);
      disposeTree(r.updates);
      disposeTree(p);
      p = p2;
      values.push((p.var as tf.Tensor).dataSync()[0]);
    }
    disposeState(state);
    disposeTree(p);
    return values;
  };
  assertClose(run({ class_name: 'Adam', config: { learning_rate: 0.1 } }, 10, 1), [9.9], { rtol: 1e-6 }, 'Adam');
  assertClose(run({ class_name: 'SGD', config: { learning_rate: 0.1 } }, 1, 1), [0.9], { rtol: 1e-6 }, 'SGD');
  const sgd = run({ class_name: 'SGD', config: { learning_rate: 0.1, momentum: 0.9 } }, 1, 2);
  assertClose([1 - sgd[0], sgd[0] - sgd[1]], [0.1, 0.18], { rtol: 1e-5 }, 'SGD momentum steps');
  assertClose(run({ class_name: 'RMSprop', config: { learning_rate: 0.1 } }, 10, 1), [9.683772], { rtol: 1e-6 }, 'RMSprop');
  assert.equal(run({ class_name: 'Nadam', config: { learning_rate: 0.2 } }, 10, 1)[0].toFixed(1), '9.8');
});
