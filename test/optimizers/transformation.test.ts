import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import {
  Adam,
  ChainError,
  RMSprop,
  SGD,
  addDecayedWeights,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  disposeState,
  ExponentialDecay,
  getIterations,
  getLearningRate,
  globalNorm,
  identity,
  Nadam,
  scaleByAdam,
  scaleByRms,
  setLearningRate,
  trace,
  type GradientTransformation,
} from '../../src/optimizers/index.js';
import { disposeTree, leaves, type TensorTree } from '../../src/core/tree.js';
import { ConfigDecodeError, InvalidArgumentError, ShapeMismatchError } from '../../src/core/errors.js';
import { assertClose } from './reference.js';

const SIZES = [6, 2, 2];

function treeOf(values: number[][]): TensorTree {
  return { a: { kernel: tf.tensor(values[0], [3, 2]), bias: tf.tensor(values[1], [2]) }, b: { kernel: tf.tensor(values[2], [2]) } };
}
const flat = (tree: TensorTree) => leaves(tree).map(([, t]) => Array.from(t.dataSync()));

/** Runs `tx` over the given gradient steps and returns the updates of each step as arrays. */
function runUpdates(tx: GradientTransformation<any>, steps: number[][][]): number[][][] {
  const params = treeOf(SIZES.map((n) => Array.from({ length: n }, (_, i) => 0.1 * i - 0.2)));
  let state = tx.init(params);
  const out: number[][][] = [];
  for (const step of steps) {
    const g = treeOf(step);
    const r = tx.update(g, state, params);
    disposeState(state);
    state = r.state;
    out.push(flat(r.updates));
    disposeTree(r.updates);
    disposeTree(g);
  }
  disposeState(state);
  disposeTree(params);
  return out;
}

const gradArb = fc.array(fc.tuple(...SIZES.map((n) => fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n }))), { minLength: 1, maxLength: 3 });

test('chain with identity changes nothing (property)', () => {
  fc.assert(
    fc.property(gradArb, (steps) => {
      const base = () => chain(clipByNorm(1.5), trace({ decay: 0.9, nesterov: true }), scaleByAdam());
      const expected = runUpdates(base(), steps);
      assert.deepEqual(runUpdates(chain(identity(), base()), steps), expected);
      assert.deepEqual(runUpdates(chain(base(), identity()), steps), expected);
      assert.deepEqual(runUpdates(chain(), steps), runUpdates(identity(), steps));
    }),
    { numRuns: 25 },
  );
});

test('identity returns the gradients, as new tensors', () => {
  const g = treeOf([[1, 2, 3, 4, 5, 6], [7, 8], [9, 10]]);
  const r = identity().update(g, {});
  assert.deepEqual(flat(r.updates), flat(g));
  for (const [[, u], [, x]] of leaves(r.updates).map((l, i) => [l, leaves(g)[i]] as const)) assert.notEqual(u, x);
  disposeTree(r.updates);
  disposeTree(g);
});

test('chain is associative (property)', () => {
  fc.assert(
    fc.property(gradArb, fc.double({ min: 0.1, max: 2, noNaN: true }), (steps, clip) => {
      const a = () => clipByGlobalNorm(clip);
      const b = () => trace({ decay: 0.5 });
      const c = () => scaleByRms({ centered: true });
      assert.deepEqual(runUpdates(chain(a(), chain(b(), c())), steps), runUpdates(chain(chain(a(), b()), c()), steps));
    }),
    { numRuns: 25 },
  );
});

test('clipByGlobalNorm: the output norm is at most the maximum, and small gradients pass unchanged (property)', () => {
  fc.assert(
    fc.property(gradArb, fc.double({ min: 0.01, max: 10, noNaN: true }), (steps, max) => {
      const g = treeOf(steps[0]);
      const r = clipByGlobalNorm(max).update(g, {});
      const normIn = globalNorm(g);
      const normOut = globalNorm(r.updates);
      const [nIn, nOut] = [normIn.dataSync()[0], normOut.dataSync()[0]];
      assert.ok(nOut <= max * (1 + 1e-5), `norm ${nOut} > ${max}`);
      if (nIn <= max) flat(r.updates).forEach((u, i) => assertClose(u, flat(g)[i], { rtol: 1e-6, atol: 1e-7 }, 'unclipped'));
      else assertClose([nOut], [max], { rtol: 1e-5 }, 'clipped norm');
      tf.dispose([normIn, normOut]);
      disposeTree(r.updates);
      disposeTree(g);
    }),
    { numRuns: 25 },
  );
});

test('clipByNorm clips each tensor on its own; clipByValue clips elements', () => {
  const g = treeOf([[3, 4, 0, 0, 0, 0], [0.3, 0.4], [-6, 8]]);
  const byNorm = clipByNorm(1).update(g, {});
  assertClose(flat(byNorm.updates).flat(), [0.6, 0.8, 0, 0, 0, 0, 0.3, 0.4, -0.6, 0.8], { rtol: 1e-6 }, 'clipByNorm');
  const byValue = clipByValue(0.35).update(g, {});
  assertClose(flat(byValue.updates).flat(), [0.35, 0.35, 0, 0, 0, 0, 0.3, 0.35, -0.35, 0.35], { rtol: 1e-6 }, 'clipByValue');
  disposeTree(byNorm.updates);
  disposeTree(byValue.updates);
  disposeTree(g);
});

test('addDecayedWeights adds weight_decay * params and needs the params', () => {
  const g = treeOf([[1, 1, 1, 1, 1, 1], [0, 0], [2, 2]]);
  const p = treeOf([[1, 2, 3, 4, 5, 6], [-1, 1], [10, 0]]);
  const r = addDecayedWeights(0.5).update(g, {}, p);
  assertClose(flat(r.updates).flat(), [1.5, 2, 2.5, 3, 3.5, 4, -0.5, 0.5, 7, 2], { rtol: 1e-6 }, 'addDecayedWeights');
  assert.throws(() => addDecayedWeights(0.5).update(g, {}), InvalidArgumentError);
  disposeTree(r.updates);
  disposeTree(g);
  disposeTree(p);
});

test("chain's errors say how to fix the call", () => {
  assert.throws(
    () => chain(clipByNorm(1), scaleByAdam as never),
    (e: unknown) => e instanceof ChainError && /argument 2 of 2/.test(e.message) && /scaleByAdam/.test(e.message) && /call it/.test(e.message),
  );
  assert.throws(() => chain({ init: 1 } as never), (e: unknown) => e instanceof ChainError && /argument 1/.test(e.message));
  const tx = chain(clipByNorm(1), trace({ decay: 0.9 }));
  const g = treeOf([[1, 1, 1, 1, 1, 1], [0, 0], [2, 2]]);
  assert.throws(() => tx.update(g, {} as never), (e: unknown) => e instanceof ChainError && /array of 2 states/.test(e.message) && /init\(params\)/.test(e.message));
  assert.throws(() => tx.update(g, [{}] as never), (e: unknown) => e instanceof ChainError && /got an array of 1/.test(e.message));
  disposeTree(g);
});

test('applyUpdates adds leaf by leaf and reports structure and shape mismatches', () => {
  const p = treeOf([[1, 2, 3, 4, 5, 6], [0, 0], [1, 1]]);
  const u = treeOf([[1, 1, 1, 1, 1, 1], [1, 2], [-1, -1]]);
  const sum = applyUpdates(p, u);
  assert.deepEqual(flat(sum), [[2, 3, 4, 5, 6, 7], [1, 2], [0, 0]]);
  const missing = { a: u.a };
  assert.throws(() => applyUpdates(p, missing), (e: unknown) => e instanceof InvalidArgumentError && /b\/kernel/.test(e.message));
  const wrong = { ...u, b: { kernel: tf.zeros([3]) } };
  assert.throws(() => applyUpdates(p, wrong), (e: unknown) => e instanceof ShapeMismatchError && /b\/kernel/.test(e.message));
  disposeTree(wrong.b as TensorTree);
  [p, u, sum].forEach(disposeTree);
});

test('the learning rate lives in the state: readable, settable between steps (number or tensor)', () => {
  const opt = SGD({ learning_rate: 0.1 });
  const p = { w: tf.tensor1d([1, 2]) };
  const g = { w: tf.tensor1d([1, -2]) };
  let state = opt.init(p);
  assert.equal(getLearningRate(state), 0.1);
  assert.equal(getIterations(state), 0);
  const step = () => {
    const r = opt.update(g, state, p);
    disposeState(state);
    state = r.state;
    const u = Array.from((r.updates.w as tf.Tensor).dataSync());
    disposeTree(r.updates);
    return u;
  };
  assertClose(step(), [-0.1, 0.2], { rtol: 1e-6 }, 'lr 0.1');
  state = setLearningRate(state, 0.01);
  assert.equal(getLearningRate(state), 0.01);
  assertClose(step(), [-0.01, 0.02], { rtol: 1e-6 }, 'lr 0.01');
  const lr = tf.scalar(0.5);
  state = setLearningRate(state, lr);
  lr.dispose(); // the state keeps its own copy
  assertClose([getLearningRate(state)], [0.5], { rtol: 1e-7 }, 'tensor lr');
  assertClose(step(), [-0.5, 1], { rtol: 1e-6 }, 'lr 0.5 as a tensor');
  assert.equal(getIterations(state), 3);
  assert.equal(opt.getConfig(state).learning_rate, 0.5);
  assert.equal(opt.getConfig().learning_rate, 0.1);
  disposeState(state);
  disposeTree(p);
  disposeTree(g);
});

test('a schedule as learning_rate is evaluated at iterations; setting a number replaces it', () => {
  const schedule = ExponentialDecay({ initial_learning_rate: 0.1, decay_steps: 1, decay_rate: 0.5 });
  const opt = Adam({ learning_rate: schedule });
  const p = { w: tf.tensor1d([1]) };
  let state = opt.init(p);
  assert.equal(getLearningRate(state), 0.1);
  for (let i = 0; i < 2; i++) {
    const g = { w: tf.tensor1d([1]) };
    const r = opt.update(g, state, p);
    disposeState(state);
    disposeTree(r.updates);
    disposeTree(g);
    state = r.state;
  }
  assertClose([getLearningRate(state)], [0.025], { rtol: 1e-12 }, 'schedule at step 2');
  assert.deepEqual(opt.getConfig(state).learning_rate, {
    class_name: 'ExponentialDecay',
    config: { initial_learning_rate: 0.1, decay_steps: 1, decay_rate: 0.5, staircase: false, name: null },
  });
  state = setLearningRate(state, 0.3);
  assert.equal(getLearningRate(state), 0.3);
  assert.equal(opt.getConfig(state).learning_rate, 0.3);
  disposeState(state);
  disposeTree(p);
});

test('no tensor leaks: numTensors returns to its baseline after the state is disposed', () => {
  const baseline = tf.memory().numTensors;
  for (const opt of [
    Adam({ amsgrad: true, global_clipnorm: 1, decay: 0.1 }),
    RMSprop({ momentum: 0.9, centered: true, clipvalue: 0.1, clipnorm: 1 }),
    SGD({ momentum: 0.9, nesterov: true }),
    Nadam(),
  ]) {
    let params = treeOf([[1, 2, 3, 4, 5, 6], [0, 0], [1, 1]]);
    let state = opt.init(params);
    const lr = tf.scalar(0.01);
    state = setLearningRate(state, lr);
    lr.dispose();
    for (let i = 0; i < 3; i++) {
      const g = treeOf([[1, -1, 1, -1, 1, -1], [0.5, 0.5], [2, -2]]);
      const { updates, state: next } = opt.update(g, state, params);
      disposeState(state);
      state = next;
      const p2 = applyUpdates(params, updates);
      [g, updates, params].forEach(disposeTree);
      params = p2;
    }
    const weights = opt.weights(state);
    const restored = opt.setWeights(state, weights.map(([, t]) => t));
    tf.dispose(weights.map(([, t]) => t));
    const again = opt.weights(restored);
    assert.deepEqual(
      again.map(([n]) => n),
      weights.map(([n]) => n),
    );
    again.forEach(([, t]) => t.dispose());
    opt.getConfig(restored);
    disposeState(restored);
    disposeState(state);
    disposeTree(params);
    assert.equal(tf.memory().numTensors, baseline, `${opt.className} leaked ${tf.memory().numTensors - baseline} tensors`);
  }
});

test('Keras argument checks: clipnorm with global_clipnorm, negative decay, Nadam with a schedule, bad momentum', () => {
  assert.throws(() => Adam({ clipnorm: 1, global_clipnorm: 1 }), ConfigDecodeError);
  assert.throws(() => Adam({ decay: -1 }), (e: unknown) => e instanceof ConfigDecodeError && /decay/.test(e.message));
  assert.throws(() => SGD({ momentum: 1.5 }), (e: unknown) => e instanceof ConfigDecodeError && /momentum/.test(e.message));
  assert.throws(() => Nadam({ learning_rate: ExponentialDecay({ initial_learning_rate: 0.1, decay_steps: 1, decay_rate: 0.5 }) }), ConfigDecodeError);
  assert.throws(() => Adam({ beta_1: 'high' as never }), (e: unknown) => e instanceof ConfigDecodeError && /beta_1/.test(e.message));
  assert.throws(() => Adam({ weight_decay: 0.01 }), (e: unknown) => e instanceof ConfigDecodeError && /weight_decay/.test(e.message));
  assert.throws(() => ExponentialDecay({ initial_learning_rate: 0.1, decay_steps: 0, decay_rate: 0.5 }), ConfigDecodeError);
});
