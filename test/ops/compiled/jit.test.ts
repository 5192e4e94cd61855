/**
 * jit: a step traced once and replayed; random tensors made again from the
 * step's key equal the ones a fresh trace makes; a function whose trace
 * depends on a number other than the key stays traced, and stays right.
 */
import { backendReady } from '../../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as ops from '../../../src/ops/index.js';
import { foldIn, seedOf } from '../../../src/core/rng.js';
import { compiled, jit } from '../../../src/ops/compiled/index.js';

interface In {
  x: tf.Tensor;
  step: number;
  key: number;
}

/** Dropout-like: a mask drawn from a key folded with the step, then a product. */
const masked = ({ x, step, key }: In) => {
  const k = foldIn(foldIn(key, step), 'layer');
  return ops.mul(x, ops.cast(ops.greaterEqual(ops.randomUniform(x.shape, 0, 1, 'float32', seedOf(k)), 0.5), 'float32'));
};
const options = { step: (a: In) => a.step, key: (a: In) => a.key };

test('a random step is replayed from the third call, with the masks an eager run draws', () => {
  const f = jit(masked, options);
  const x = tf.tensor2d([...Array(64).keys()].map((i) => i + 1), [8, 8]);
  for (let step = 0; step < 6; step++) {
    const got = compiled(() => f({ x, step, key: 42 }));
    const want = masked({ x, step, key: 42 });
    assert.deepEqual(Array.from(got.dataSync()), Array.from(want.dataSync()), `step ${step}`);
    tf.dispose([got, want]);
  }
  assert.equal(f.replays, 4);
  x.dispose();
});

test('a trace that depends on a number other than the key is never replayed, and stays right', () => {
  const scaled = ({ x, step }: In) => ops.mul(x, step + 1);
  const f = jit(scaled, options);
  const x = tf.ones([3]);
  for (let step = 0; step < 5; step++) {
    const got = compiled(() => f({ x, step, key: 1 }));
    assert.deepEqual(Array.from(got.dataSync()), [step + 1, step + 1, step + 1]);
    got.dispose();
  }
  assert.equal(f.replays, 0);
  x.dispose();
});
