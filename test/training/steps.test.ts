import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { backendReady } from '../helpers/backend.js';
import * as rx from '../../src/index.js';
import { compile, startState, type Compiled, type Module, type TrainState } from '../../src/training/index.js';
import { cloneTree, disposeReplaced, leaves } from '../../src/core/tree.js';

await backendReady;

/** A Sequential model as a bare Module, its compiled setup and a fresh training state (the model's own weights untouched by training). */
function setup(module: rx.Model, args: rx.CompileArgs): { module: Module; compiled: Compiled; ts: TrainState } {
  const compiled = compile(module.outputNames, args);
  const { state } = startState(module, { compiled, optState: undefined, optPaths: '', step: 0, key: rx.makeKey(7) }, module.variables!);
  return { module, compiled, ts: state };
}

const values = (t: tf.Tensor) => Array.from(t.dataSync());

test('gradientStep and applyGradients against a hand computation (Dense 2 -> 1, MSE, SGD 0.1)', () => {
  const model = new rx.Sequential({ layers: [rx.Dense({ units: 1, input_shape: [2] })] });
  model.build(1);
  model.setWeights([tf.tensor2d([[0.5], [-1]]), tf.tensor1d([0.1])]);
  const { module, compiled, ts } = setup(model, { optimizer: rx.SGD({ learning_rate: 0.1 }), loss: 'mse' });
  const batch = { x: [tf.tensor2d([[1, 2]])], y: [tf.tensor2d([[3]])] };
  // prediction 0.5 - 2 + 0.1 = -1.4; loss (-1.4 - 3)^2 = 19.36; dloss/dpred = 2 (-4.4) = -8.8.
  const g = rx.gradientStep(module, compiled, ts, batch);
  assert.ok(Math.abs(g.loss.dataSync()[0] - 19.36) < 1e-4);
  assert.ok(Math.abs(g.predictions[0].dataSync()[0] + 1.4) < 1e-6);
  const grads = leaves(g.grads);
  assert.deepEqual(grads.map(([p]) => p), ['dense/kernel', 'dense/bias']);
  assertClose(values(grads[0][1]), [-8.8, -17.6], 1e-5);
  assertClose(values(grads[1][1]), [-8.8], 1e-5);
  // SGD: w - 0.1 * grad.
  const next = rx.applyGradients(module, compiled, { ...ts, state: g.state }, g.grads);
  assert.equal(next.step, 1);
  assert.equal(next.key, ts.key);
  const p = leaves(next.params);
  assertClose(values(p[0][1]), [1.38, 0.76], 1e-5);
  assertClose(values(p[1][1]), [0.98], 1e-5);
  // Neither half disposed what it was given.
  assert.ok(leaves(ts.params).every(([, t]) => !t.isDisposed));
  assert.ok(leaves(g.grads).every(([, t]) => !t.isDisposed));
  disposeReplaced({ g: g.grads, l: g.loss, o: g.outputLosses, p: g.predictions, s: g.state }, ts);
  disposeReplaced(next, ts);
  tf.dispose([...batch.x, ...batch.y]);
  model.dispose();
});

test('trainStep equals applyGradients after gradientStep, bit for bit (Adam, BatchNormalization state, L2, dropout key)', () => {
  const model = new rx.Sequential({
    layers: [
      rx.Dense({ units: 6, activation: 'relu', input_shape: [4], kernel_regularizer: { class_name: 'L2', config: { l2: 0.01 } } }),
      rx.BatchNormalization({}),
      rx.Dropout({ rate: 0.3 }),
      rx.Dense({ units: 3, activation: 'softmax' }),
    ],
  }).build(3);
  // One module, two chains from equal states (the second on copies of the weights).
  const sa = setup(model, { optimizer: 'adam', loss: 'categorical_crossentropy' });
  const copy = { params: cloneTree(model.variables!.params), state: cloneTree(model.variables!.state) };
  const sb = { ...sa, ts: { ...sa.ts, ...copy, optState: sa.compiled.optimizer.init(copy.params) as unknown } };
  const x = tf.randomNormal([8, 4], 0, 1, 'float32', 5);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
  const before = tf.memory().numTensors;
  let composed = sa.ts;
  let split: TrainState = sb.ts;
  for (let i = 0; i < 3; i++) {
    const whole = rx.trainStep(sa.module, sa.compiled, composed, { x: [x], y: [y] });
    const g = rx.gradientStep(sb.module, sb.compiled, split, { x: [x], y: [y] });
    const next = rx.applyGradients(sb.module, sb.compiled, { ...split, state: g.state }, g.grads);
    assert.deepEqual(values(whole.result.loss), values(g.loss));
    assert.deepEqual(values(whole.result.predictions[0]), values(g.predictions[0]));
    const wl = leaves({ p: whole.state.params, s: whole.state.state });
    const sl = leaves({ p: next.params, s: next.state });
    assert.deepEqual(wl.map(([p]) => p), sl.map(([p]) => p));
    wl.forEach(([path, t], j) => assert.deepEqual(values(t), values(sl[j][1]), `${path} after step ${i + 1}`));
    assert.equal(whole.state.step, next.step);
    disposeReplaced(composed, whole.state);
    disposeReplaced(split, next);
    disposeReplaced(g.grads, next);
    tf.dispose([whole.result.loss, ...whole.result.outputLosses, ...whole.result.predictions, g.loss, ...g.outputLosses, ...g.predictions]);
    composed = whole.state;
    split = next;
  }
  // Each chain holds as many tensors as it started with: the steps leak nothing.
  assert.equal(tf.memory().numTensors, before);
  disposeReplaced(composed, undefined);
  disposeReplaced(split, undefined);
  tf.dispose([x, y]);
});

test('a failing gradient step leaks nothing and leaves the state usable', () => {
  const model = new rx.Sequential({ layers: [rx.Dense({ units: 2, input_shape: [3] })] }).build(1);
  const { module, compiled, ts } = setup(model, { optimizer: 'sgd', loss: 'mse' });
  const x = tf.ones([2, 3]);
  const wrong = tf.ones([2, 5]);
  const before = tf.memory().numTensors;
  assert.throws(() => rx.gradientStep(module, compiled, ts, { x: [x], y: [wrong] }));
  assert.equal(tf.memory().numTensors, before);
  const y = tf.zeros([2, 2]);
  const ok = rx.trainStep(module, compiled, ts, { x: [x], y: [y] });
  assert.equal(ok.state.step, 1);
  disposeReplaced({ s: ok.state, r: ok.result }, ts);
  tf.dispose([x, wrong, y]);
  model.dispose();
});

function assertClose(actual: number[], expected: number[], tol: number): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tol, `[${i}] ${v} vs ${expected[i]}`));
}

test('testStep and predictStep against the same hand computation, in inference mode (no regularisation, no dropout)', () => {
  const model = new rx.Sequential({ layers: [rx.Dense({ units: 1, input_shape: [2], kernel_regularizer: { class_name: 'L2', config: { l2: 10 } } }), rx.Dropout({ rate: 0.9 })] });
  model.build(1);
  model.setWeights([tf.tensor2d([[0.5], [-1]]), tf.tensor1d([0.1])]);
  const compiled = compile(model.outputNames, { optimizer: 'sgd', loss: 'mse' });
  const x = tf.tensor2d([[1, 2]]);
  const y = tf.tensor2d([[3]]);
  const r = rx.testStep(model, compiled, model.variables!, { x: [x], y: [y] });
  assert.ok(Math.abs(r.loss.dataSync()[0] - 19.36) < 1e-4, 'the L2 penalty counts in training only');
  assert.ok(Math.abs(r.predictions[0].dataSync()[0] + 1.4) < 1e-6);
  const [p] = rx.predictStep(model, model.variables!, [x]);
  assert.ok(Math.abs(p.dataSync()[0] + 1.4) < 1e-6);
  tf.dispose([x, y, r.loss, ...r.outputLosses, ...r.predictions, p]);
  model.dispose();
});
