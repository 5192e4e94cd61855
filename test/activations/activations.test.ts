import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { backendReady } from '../helpers/backend.js';
import { ACTIVATION_NAMES, fusedActivation, getActivation } from '../../src/activations/index.js';
import { UnknownNameError } from '../../src/core/errors.js';

await backendReady;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const erf = (x: number) => {
  // Abramowitz-Stegun 7.1.26 is only 1.5e-7 accurate: enough against float32.
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return Math.sign(x) * y;
};
const selu = (x: number) => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (Math.exp(x) - 1));
const reference: Record<string, (x: number) => number> = {
  linear: (x) => x,
  relu: (x) => Math.max(0, x),
  relu6: (x) => Math.min(6, Math.max(0, x)),
  sigmoid,
  hard_sigmoid: (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5)),
  tanh: Math.tanh,
  softplus: (x) => Math.log1p(Math.exp(x)),
  softsign: (x) => x / (1 + Math.abs(x)),
  elu: (x) => (x > 0 ? x : Math.exp(x) - 1),
  selu,
  exponential: Math.exp,
  swish: (x) => x * sigmoid(x),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
};

test('every Keras activation equals its float64 formula within 1e-5 relative', () => {
  const xs = Array.from({ length: 41 }, (_, i) => -8 + i * 0.4);
  for (const name of ACTIVATION_NAMES) {
    if (name === 'softmax') continue;
    const y = getActivation(name)(tf.tensor1d(xs));
    const got = Array.from(y.dataSync());
    xs.forEach((x, i) => {
      const want = reference[name](x);
      assert.ok(Math.abs(got[i] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${name}(${x}) = ${got[i]}, want ${want}`);
    });
    y.dispose();
  }
});

test('softmax is over the last axis; null means linear; fused forms exist only for what tfjs fuses', () => {
  const x = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
  const y = getActivation('softmax')(x);
  const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
  const s = e.reduce((a, b) => a + b);
  const got = y.arraySync() as number[][];
  e.forEach((v, i) => assert.ok(Math.abs(got[0][i] - v / s) < 1e-6));
  got[1].forEach((v) => assert.ok(Math.abs(v - 1 / 3) < 1e-6));
  assert.equal(getActivation(null)(x), x);
  assert.equal(fusedActivation('relu'), 'relu');
  assert.equal(fusedActivation(undefined), 'linear');
  assert.equal(fusedActivation('softmax'), undefined);
  assert.throws(() => getActivation('relu7'), (err: Error) => err instanceof UnknownNameError && /relu6/.test(err.message));
  tf.dispose([x, y]);
});
