import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import { backendReady, onBackend } from '../../helpers/backend.js';

await backendReady;

test('wasm GatherV2 (row copies on axis 0, stock kernel otherwise) equals the cpu backend exactly, without leaks', async () => {
  const cases = fc.sample(
    fc.record({
      shape: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
      indexShape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 2 }),
      axis: fc.constantFrom(0, 0, 0, -1),
      dtype: fc.constantFrom('float32', 'int32'),
      seed: fc.integer({ min: 0, max: 1000 }),
    }),
    { numRuns: 60, seed: 11 },
  );
  for (const c of cases) {
    const axis = c.axis < 0 ? c.shape.length - 1 : 0;
    const n = c.shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, (_, i) => (i * 31 + c.seed) % 97);
    const count = c.indexShape.reduce((a, b) => a * b, 1);
    const ids = Array.from({ length: count }, (_, i) => (i * 7 + c.seed) % c.shape[axis]); // repeats included
    const run = () => {
      const x = tf.tensor(values, c.shape, c.dtype as 'float32' | 'int32');
      const idx = tf.tensor(ids, c.indexShape, 'int32');
      const y = tf.gather(x, idx, axis);
      const out = { shape: y.shape, values: Array.from(y.dataSync()) };
      tf.dispose([x, idx, y]);
      return out;
    };
    const expected = await onBackend('cpu', run);
    const before = tf.memory().numTensors;
    assert.deepEqual(run(), expected, JSON.stringify(c));
    assert.equal(tf.memory().numTensors, before);
  }
  const x = tf.ones([3, 2]);
  const bad = tf.tensor1d([0, 3], 'int32');
  assert.throws(() => tf.gather(x, bad), /not in \[0, 2\]/);
  tf.dispose([x, bad]);
});
