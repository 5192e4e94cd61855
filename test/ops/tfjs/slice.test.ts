import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import { backendReady, onBackend } from '../../helpers/backend.js';

await backendReady;

test('wasm Slice (contiguous fast path and the rest) equals the cpu backend exactly, and frees what it makes', async () => {
  const cases = fc.sample(
    fc
      .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 })
      .chain((shape) =>
        fc.tuple(
          fc.constant(shape),
          fc.tuple(...shape.map((d) => fc.integer({ min: 0, max: d - 1 }))),
          fc.constantFrom('float32', 'int32'),
        ),
      )
      .chain(([shape, begin, dtype]) =>
        fc.tuple(fc.constant(shape), fc.constant(begin), fc.tuple(...shape.map((d, i) => fc.integer({ min: 1, max: d - begin[i] }))), fc.constant(dtype)),
      ),
    { numRuns: 60, seed: 7 },
  );
  // Leading-row slices are the contiguous case a training loop takes; make sure they are among the cases.
  cases.push([[300, 4, 3], [17, 0, 0], [128, 4, 3], 'float32'], [[10, 7], [9, 0], [1, 7], 'int32']);
  for (const [shape, begin, size, dtype] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, (_, i) => (i * 37) % 101);
    const expected = await onBackend('cpu', () => {
      const x = tf.tensor(values, shape, dtype as 'float32' | 'int32');
      const y = tf.slice(x, begin, size);
      const v = y.arraySync();
      tf.dispose([x, y]);
      return v;
    });
    const before = tf.memory().numTensors;
    const x = tf.tensor(values, shape, dtype as 'float32' | 'int32');
    const y = tf.slice(x, begin, size);
    assert.deepEqual(y.arraySync(), expected, `shape ${shape} begin ${begin} size ${size}`);
    tf.dispose([x, y]);
    assert.equal(tf.memory().numTensors, before);
  }
});
