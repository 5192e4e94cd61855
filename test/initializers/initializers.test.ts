import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { backendReady } from '../helpers/backend.js';
import { computeFans, getInitializer, serializeInitializer } from '../../src/initializers/index.js';
import { ConfigDecodeError, UnknownNameError } from '../../src/core/errors.js';
import { makeKey } from '../../src/core/rng.js';

await backendReady;

const stats = (t: tf.Tensor) => {
  const v = Array.from(t.dataSync());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
  return { mean, std: Math.sqrt(variance), min: v.reduce((a, b) => Math.min(a, b)), max: v.reduce((a, b) => Math.max(a, b)) };
};

test("Keras's fan computation: dense [in, out]; conv kernels times the receptive field", () => {
  assert.deepEqual(computeFans([784, 512]), [784, 512]);
  assert.deepEqual(computeFans([3, 3, 32, 64]), [3 * 3 * 32, 3 * 3 * 64]);
  assert.deepEqual(computeFans([5, 16, 8]), [80, 40]);
  assert.deepEqual(computeFans([7]), [7, 7]);
});

test('variance-scaling family: bounds and standard deviations as Keras defines them (5% on 200k samples)', () => {
  const shape = [400, 500];
  const [fanIn, fanOut] = [400, 500];
  const cases: [string, (s: ReturnType<typeof stats>) => void][] = [
    ['glorot_uniform', (s) => {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      assert.ok(s.max <= limit && s.min >= -limit);
      assert.ok(Math.abs(s.std - limit / Math.sqrt(3)) / (limit / Math.sqrt(3)) < 0.05);
    }],
    ['he_uniform', (s) => assert.ok(Math.abs(s.std - Math.sqrt(2 / fanIn)) / Math.sqrt(2 / fanIn) < 0.05)],
    ['lecun_uniform', (s) => assert.ok(Math.abs(s.std - Math.sqrt(1 / fanIn)) / Math.sqrt(1 / fanIn) < 0.05)],
    // Truncated normals are rescaled so that the standard deviation is the target one.
    ['glorot_normal', (s) => assert.ok(Math.abs(s.std - Math.sqrt(2 / (fanIn + fanOut))) / Math.sqrt(2 / (fanIn + fanOut)) < 0.05)],
    ['he_normal', (s) => {
      const target = Math.sqrt(2 / fanIn);
      assert.ok(Math.abs(s.std - target) / target < 0.05);
      assert.ok(s.max <= 2 * (target / 0.8796256610342398) + 1e-6, 'truncated at two of its own standard deviations');
    }],
    ['lecun_normal', (s) => assert.ok(Math.abs(s.std - Math.sqrt(1 / fanIn)) / Math.sqrt(1 / fanIn) < 0.05)],
  ];
  for (const [name, check] of cases) {
    const t = getInitializer(name).init(makeKey(1), shape);
    const s = stats(t);
    assert.ok(Math.abs(s.mean) < 0.002, `${name} mean ${s.mean}`);
    check(s);
    t.dispose();
  }
  const fanOutCase = getInitializer({ class_name: 'VarianceScaling', config: { scale: 2, mode: 'fan_out', distribution: 'untruncated_normal' } }).init(makeKey(2), shape);
  assert.ok(Math.abs(stats(fanOutCase).std - Math.sqrt(2 / fanOut)) / Math.sqrt(2 / fanOut) < 0.05);
  fanOutCase.dispose();
});

test('Orthogonal gives orthonormal columns (rows when wider) times the gain; Identity and Constant', () => {
  for (const shape of [[6, 4], [4, 6], [3, 2, 5]]) {
    const t = getInitializer({ class_name: 'Orthogonal', config: { gain: 2 } }).init(makeKey(3), shape);
    const flat = tf.reshape(t, [-1, shape[shape.length - 1]]);
    const [rows, cols] = flat.shape as [number, number];
    const gram = rows >= cols ? tf.matMul(flat, flat, true, false) : tf.matMul(flat, flat, false, true);
    const eye = tf.mul(tf.eye(Math.min(rows, cols)), 4);
    assert.ok(tf.max(tf.abs(tf.sub(gram, eye))).dataSync()[0] < 1e-4, `shape ${shape}`);
    tf.dispose([t, flat, gram, eye]);
  }
  const id = getInitializer({ class_name: 'Identity', config: { gain: 3 } }).init(makeKey(1), [2, 3]);
  assert.deepEqual(id.arraySync(), [[3, 0, 0], [0, 3, 0]]);
  const c = getInitializer({ class_name: 'Constant', config: { value: 0.5 } }).init(makeKey(1), [2]);
  assert.deepEqual(c.arraySync(), [0.5, 0.5]);
  tf.dispose([id, c]);
});

test('seeds: the same key or config seed gives the same tensor, another key another one', () => {
  const init = getInitializer('random_normal');
  const [a, b, c] = [init.init(makeKey(5), [50]), init.init(makeKey(5), [50]), init.init(makeKey(6), [50])];
  assert.deepEqual(a.arraySync(), b.arraySync());
  assert.notDeepEqual(a.arraySync(), c.arraySync());
  const seeded = getInitializer({ class_name: 'RandomUniform', config: { seed: 42 } });
  const [d, e] = [seeded.init(makeKey(1), [20]), seeded.init(makeKey(2), [20])];
  assert.deepEqual(d.arraySync(), e.arraySync(), 'a config seed wins over the key');
  tf.dispose([a, b, c, d, e]);
});

test('configs: Keras names and defaults, serialised as Keras 2 writes them; errors name the field', () => {
  assert.deepEqual(serializeInitializer(getInitializer('glorot_uniform')), { class_name: 'GlorotUniform', config: { seed: null } });
  assert.deepEqual(serializeInitializer(getInitializer('random_normal')), { class_name: 'RandomNormal', config: { mean: 0, stddev: 0.05, seed: null } });
  assert.deepEqual(serializeInitializer(getInitializer({ class_name: 'VarianceScaling' })).config, {
    scale: 1, mode: 'fan_in', distribution: 'truncated_normal', seed: null,
  });
  assert.throws(() => getInitializer('glorot_uniformm'), UnknownNameError);
  assert.throws(() => getInitializer({ class_name: 'VarianceScaling', config: { mode: 'fan_sideways' } }), (e: Error) => e instanceof ConfigDecodeError && e.path === 'mode');
});
