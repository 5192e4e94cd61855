/**
 * rxkeras's wasm UnsortedSegmentSum (wasm has none) against the cpu
 * backend's stock kernel: random data of rank 1..3, float32 and int32,
 * segment ids with duplicates, int32 and (integral) float32 ids, ids out of
 * range (dropped); and the gradient of gather, the reason it exists.
 */
import { backendReady, onBackend } from '../../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';

assert.equal(tf.getBackend(), 'wasm', 'these tests check the wasm backend');

interface Case {
  data: number[];
  shape: number[];
  dtype: 'float32' | 'int32';
  ids: number[];
  idsDtype: 'float32' | 'int32';
  numSegments: number;
}

/** The kernel itself (tf.unsortedSegmentSum refuses float ids before the kernel sees them). */
function segmentSum(c: Case): { values: number[]; shape: number[]; dtype: string } {
  const before = tf.memory().numTensors;
  const x = tf.tensor(c.data, c.shape, c.dtype);
  const ids = tf.tensor1d(c.ids, c.idsDtype);
  const y = tf.engine().runKernel('UnsortedSegmentSum', { x, segmentIds: ids }, { numSegments: c.numSegments }) as tf.Tensor;
  const out = { values: Array.from(y.dataSync()), shape: y.shape, dtype: y.dtype };
  tf.dispose([x, ids, y]);
  assert.equal(tf.memory().numTensors, before, `tensors leaked on ${tf.getBackend()}`);
  return out;
}

const caseArb = fc
  .record({
    n: fc.integer({ min: 1, max: 12 }),
    rest: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 2 }),
    numSegments: fc.integer({ min: 1, max: 6 }),
    dtype: fc.constantFrom('float32' as const, 'int32' as const),
    idsDtype: fc.constantFrom('float32' as const, 'int32' as const),
    seed: fc.integer(),
  })
  .chain(({ n, rest, numSegments, dtype, idsDtype }) =>
    fc.record({
      shape: fc.constant<number[]>([n, ...rest]),
      numSegments: fc.constant(numSegments),
      dtype: fc.constant(dtype),
      idsDtype: fc.constant(idsDtype),
      // Few segments and up to 12 ids: duplicates in most runs.
      ids: fc.array(fc.integer({ min: 0, max: numSegments - 1 }), { minLength: n, maxLength: n }),
      data: fc.array(dtype === 'int32' ? fc.integer({ min: -50, max: 50 }) : fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), {
        minLength: n * rest.reduce((a, b) => a * b, 1),
        maxLength: n * rest.reduce((a, b) => a * b, 1),
      }),
    }),
  );

async function assertMatchesCpu(c: Case): Promise<void> {
  const w = segmentSum(c);
  const ref = await onBackend('cpu', () => segmentSum(c));
  assert.deepEqual(w.shape, ref.shape, 'shape');
  // As TensorFlow: the data's dtype (the cpu kernel returns float32 for int32 data).
  assert.equal(w.dtype, c.dtype, 'dtype');
  w.values.forEach((v, i) => assert.ok(Math.abs(v - ref.values[i]) <= 1e-5 * (1 + Math.abs(ref.values[i])), `element ${i}: wasm ${v} vs cpu ${ref.values[i]}`));
}

test('wasm UnsortedSegmentSum equals the cpu kernel (fast-check: rank 1..3 data, duplicates, int and float ids)', async () => {
  await fc.assert(fc.asyncProperty(caseArb, assertMatchesCpu), { numRuns: 60 });
});

test('duplicate ids add up; ids outside [0, numSegments) are dropped, as on cpu', async () => {
  const c: Case = { data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], shape: [5, 2], dtype: 'float32', ids: [1, 1, -1, 3, 1], idsDtype: 'int32', numSegments: 3 };
  assert.deepEqual(segmentSum(c).values, [0, 0, 1 + 3 + 9, 2 + 4 + 10, 0, 0]);
  await assertMatchesCpu(c);
});

test('segment ids of rank 2 sum over both id axes (TensorFlow semantics)', () => {
  const x = tf.tensor3d([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
  const ids = tf.tensor2d([[0, 2], [2, 0]], undefined, 'int32');
  const y = tf.unsortedSegmentSum(x, ids as unknown as tf.Tensor1D, 3);
  assert.deepEqual(y.arraySync(), [[8, 10], [0, 0], [8, 10]]);
  tf.dispose([x, ids, y]);
});

test('a big vocabulary: output [numSegments, d] only (no one-hot [numSegments, n])', () => {
  const x = tf.ones([4, 8]);
  const ids = tf.tensor1d([199_999, 5, 5, 0], 'int32');
  const y = tf.unsortedSegmentSum(x, ids, 200_000);
  assert.deepEqual(y.shape, [200_000, 8]);
  const rows = tf.gather(y, tf.tensor1d([0, 5, 6, 199_999], 'int32'));
  assert.deepEqual(rows.arraySync(), [[1, 1, 1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2, 2, 2], [0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1]]);
  tf.dispose([x, ids, y, rows]);
});

test('the gradient of gather (Embedding lookup) on wasm equals the cpu one', async () => {
  const grad = () =>
    tf.tidy(() => {
      const table = tf.tensor2d(Array.from({ length: 7 * 3 }, (_, i) => Math.sin(i)), [7, 3]);
      const idx = tf.tensor1d([1, 4, 1, 6, 0, 1, 4], 'int32');
      const r = tf.tensor2d(Array.from({ length: 7 * 3 }, (_, i) => Math.cos(3 * i)), [7, 3]);
      const [g] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), r)))([table]);
      return Array.from(g.dataSync());
    });
  const w = grad();
  const c = await onBackend('cpu', grad);
  w.forEach((v, i) => assert.ok(Math.abs(v - c[i]) <= 1e-5, `element ${i}: wasm ${v} vs cpu ${c[i]}`));
});
