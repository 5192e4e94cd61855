/**
 * Merge layers: run_layer_test for each; forward and input gradients equal
 * to @tensorflow/tfjs-layers (add, multiply, average, maximum, minimum,
 * concatenate, dot) within 1e-5 relative, on wasm and cpu; Subtract and
 * broadcasting across ranks against numpy (float64) within 1e-5; masks
 * (AND for elementwise merges, concatenated for Concatenate); shape errors.
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import fc from 'fast-check';
import { runLayerTest, type LayerTestCase } from '../../src/testing/index.js';
import * as L from '../../src/layers/index.js';
import type { Layer } from '../../src/layers/layer.js';
import { needsPython } from '../helpers/python.js';
import { assertClose, numpy, relError, toJson } from './numpy-reference.js';

const cases: [string, () => LayerTestCase][] = [
  ['Add', () => ({ layer: L.Add(), inputShape: [[null, 4], [null, 4], [null, 4]], expectedParams: 0, expectedOutputShape: [null, 4] })],
  ['Subtract', () => ({ layer: L.Subtract(), inputShape: [[null, 3, 4], [null, 3, 4]], expectedParams: 0, expectedOutputShape: [null, 3, 4] })],
  ['Multiply broadcast', () => ({ layer: L.Multiply(), inputShape: [[null, 3, 4], [null, 1, 4]], expectedParams: 0, expectedOutputShape: [null, 3, 4] })],
  ['Average ranks', () => ({ layer: L.Average(), inputShape: [[null, 3, 4], [null, 4]], expectedParams: 0, expectedOutputShape: [null, 3, 4] })],
  ['Maximum', () => ({ layer: L.Maximum(), inputShape: [[null, 5], [null, 5]], expectedParams: 0 })],
  ['Minimum', () => ({ layer: L.Minimum({ name: 'mini' }), inputShape: [[null, 5], [null, 5]], expectedParams: 0 })],
  ['Concatenate', () => ({ layer: L.Concatenate(), inputShape: [[null, 3, 2], [null, 3, 5]], expectedParams: 0, expectedOutputShape: [null, 3, 7] })],
  ['Concatenate axis 1', () => ({ layer: L.Concatenate({ axis: 1 }), inputShape: [[null, 2, 4], [null, 3, 4]], expectedParams: 0, expectedOutputShape: [null, 5, 4] })],
  ['Concatenate unknown', () => ({ layer: L.Concatenate({ axis: 1 }), inputShape: [[null, null, 4], [null, 3, 4]], expectedParams: 0, expectedOutputShape: [null, null, 4] })],
  ['Dot', () => ({ layer: L.Dot({ axes: 1 }), inputShape: [[null, 4], [null, 4]], expectedParams: 0, expectedOutputShape: [null, 1] })],
  ['Dot 3D', () => ({ layer: L.Dot({ axes: [1, 2], normalize: true }), inputShape: [[null, 5, 2], [null, 3, 5]], expectedParams: 0, expectedOutputShape: [null, 2, 3] })],
];
for (const [name, make] of cases) test(`run_layer_test: ${name}`, () => runLayerTest(make()));

test('default names follow Keras', () => {
  for (const [make, prefix] of [
    [L.Add, 'add'], [L.Subtract, 'subtract'], [L.Multiply, 'multiply'], [L.Average, 'average'],
    [L.Maximum, 'maximum'], [L.Minimum, 'minimum'], [L.Concatenate, 'concatenate'], [() => L.Dot({ axes: 1 }), 'dot'],
  ] as [() => Layer, string][])
    assert.match(make().name, new RegExp(`^${prefix}(_\\d+)?$`));
});

interface Diff {
  name: string;
  ours: () => Layer;
  theirs: () => tfl.layers.Layer;
  shapes: number[][];
}
const diffs: Diff[] = [
  { name: 'add', ours: () => L.Add(), theirs: () => tfl.layers.add({}), shapes: [[3, 4], [3, 4], [3, 4]] },
  { name: 'multiply', ours: () => L.Multiply(), theirs: () => tfl.layers.multiply({}), shapes: [[2, 3, 4], [2, 3, 4]] },
  { name: 'average', ours: () => L.Average(), theirs: () => tfl.layers.average({}), shapes: [[3, 5], [3, 5], [3, 5]] },
  { name: 'maximum', ours: () => L.Maximum(), theirs: () => tfl.layers.maximum({}), shapes: [[3, 5], [3, 5]] },
  { name: 'minimum', ours: () => L.Minimum(), theirs: () => tfl.layers.minimum({}), shapes: [[3, 5], [3, 5], [3, 5]] },
  { name: 'concatenate', ours: () => L.Concatenate(), theirs: () => tfl.layers.concatenate({}), shapes: [[2, 3, 2], [2, 3, 4]] },
  { name: 'concatenate axis 1', ours: () => L.Concatenate({ axis: 1 }), theirs: () => tfl.layers.concatenate({ axis: 1 }), shapes: [[2, 1, 4], [2, 3, 4]] },
  { name: 'dot', ours: () => L.Dot({ axes: 1 }), theirs: () => tfl.layers.dot({ axes: 1 }), shapes: [[4, 6], [4, 6]] },
  { name: 'dot normalize', ours: () => L.Dot({ axes: -1, normalize: true }), theirs: () => tfl.layers.dot({ axes: -1, normalize: true }), shapes: [[4, 6], [4, 6]] },
  { name: 'dot 3D', ours: () => L.Dot({ axes: [2, 2] }), theirs: () => tfl.layers.dot({ axes: [2, 2] }), shapes: [[2, 3, 4], [2, 5, 4]] },
  { name: 'dot 3D mixed', ours: () => L.Dot({ axes: [1, 2] }), theirs: () => tfl.layers.dot({ axes: [1, 2] }), shapes: [[2, 5, 2], [2, 3, 5]] },
];

for (const backend of ['wasm', 'cpu'] as const)
  for (const d of diffs)
    test(`${backend}: ${d.name} matches tfjs-layers (forward and input gradients)`, () =>
      onBackend(backend, () => {
        const before = tf.memory().numTensors;
        const xs = d.shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', 30 + i));
        const ours = d.ours();
        const theirs = d.theirs();
        const y = ours.apply({}, {}, xs, { training: false }).outputs as tf.Tensor;
        const ref = tf.tidy(() => theirs.apply(xs) as tf.Tensor);
        assertClose(y, ref, `${backend} ${d.name}: forward`);
        const r = tf.randomNormal(ref.shape, 0, 1, 'float32', 4);
        const g1 = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(ours.apply({}, {}, a, { training: false }).outputs as tf.Tensor, r)))(xs);
        const g2 = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(theirs.apply(a) as tf.Tensor, r)))(xs);
        g1.forEach((g, i) => assertClose(g, g2[i], `${backend} ${d.name}: d/dx${i}`));
        tf.dispose([...xs, y, ref, r, ...g1, ...g2]);
        assert.equal(tf.memory().numTensors, before);
      }));

test('Subtract and rank broadcasting match numpy (Keras expands at axis 1)', { skip: needsPython('numpy') }, () => {
  const a = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
  const b = tf.randomNormal([2, 4], 0, 1, 'float32', 2);
  const c = tf.randomNormal([2, 3, 1], 0, 1, 'float32', 3);
  const sub = L.Subtract().apply({}, {}, [a, b], { training: false }).outputs as tf.Tensor;
  const avg = L.Average().apply({}, {}, [a, b, c], { training: false }).outputs as tf.Tensor;
  const mx = L.Maximum().apply({}, {}, [b, a], { training: false }).outputs as tf.Tensor;
  const ref = numpy<{ shape: number[]; data: number[] }[]>(
    `a, b, c = A(D['a']['data']).reshape(D['a']['shape']), A(D['b']['data']).reshape(D['b']['shape']), A(D['c']['data']).reshape(D['c']['shape'])
b1 = b[:, None, :]
R = [a - b1, (a + b1 + c) / 3, np.maximum(b1, a)]`,
    { a: toJson(a), b: toJson(b), c: toJson(c) },
  );
  for (const [i, y] of [sub, avg, mx].entries()) assert.ok(relError(y, ref[i]) <= 1e-5, `case ${i}: ${relError(y, ref[i])}`);
  tf.dispose([a, b, c, sub, avg, mx]);
});

test('Keras shape rules: broadcast, unknown dims, errors', () => {
  assert.deepEqual(L.Add().computeOutputShape([[null, 3, 1], [null, 4]]), [null, 3, 4]);
  assert.deepEqual(L.Add().computeOutputShape([[null, null], [null, 4]]), [null, null]);
  assert.deepEqual(L.Add().computeOutputShape([[5, 4], [null, 4]]), [5, 4]);
  assert.throws(() => L.Add().computeOutputShape([[null, 3], [null, 4]]), /incompatible shapes/);
  assert.throws(() => L.Add().computeOutputShape([[2, 3], [4, 3]]), /different batch sizes/);
  assert.throws(() => L.Subtract().computeOutputShape([[null, 3], [null, 3], [null, 3]]), /2 inputs/);
  assert.throws(() => L.Add().computeOutputShape([null, 3]), /list of input shapes/);
  assert.throws(() => L.Concatenate().computeOutputShape([[null, 3, 2], [null, 4, 2]]), /concatenation axis/);
  assert.throws(() => L.Dot({ axes: 1 }).computeOutputShape([[null, 3], [null, 4]]), /incompatible input shapes/);
  assert.throws(() => L.Dot({ axes: 0 }).computeOutputShape([[null, 3], [null, 3]]), /non-batch axes/);
  assert.throws(() => L.Dot({ axes: [1, 2, 3] }), /axes/);
  const x = tf.ones([2, 3]);
  assert.throws(() => L.Add().apply({}, {}, x, { training: false }), /list of tensors/);
  x.dispose();
});

test('property: Add output shape is numpy broadcasting of the inputs', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), (dims, ones) => {
      const a = [2, ...dims];
      const b = [2, ...dims.map((d, i) => (ones[i] ? 1 : d))];
      const expected = L.Add().computeOutputShape([a, b]);
      const ta = tf.zeros(a);
      const tb = tf.zeros(b);
      const y = L.Add().apply({}, {}, [ta, tb], { training: false }).outputs as tf.Tensor;
      assert.deepEqual(y.shape, expected);
      tf.dispose([ta, tb, y]);
    }),
    { numRuns: 30 },
  );
});

test('masks: elementwise merges AND the masks; Concatenate concatenates them; Dot has none', async () => {
  const x = tf.ones([2, 3, 2]);
  const m1 = tf.cast(tf.tensor2d([[1, 1, 0], [1, 0, 0]]), 'bool');
  const m2 = tf.cast(tf.tensor2d([[1, 0, 1], [1, 1, 1]]), 'bool');
  const and = L.Add().computeMask!([x, x], [m1, m2]) as tf.Tensor;
  assert.deepEqual(Array.from(await and.data()), [1, 0, 0, 1, 0, 0]);
  assert.equal(L.Add().computeMask!([x, x], [m1, null]), m1);
  assert.equal(L.Add().computeMask!([x, x], null), null);
  const cat = L.Concatenate({ axis: 1 }).computeMask!([x, x], [m1, null]) as tf.Tensor;
  assert.deepEqual(cat.shape, [2, 6]);
  assert.deepEqual(Array.from(await cat.data()), [1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
  const catLast = L.Concatenate().computeMask!([x, x], [m1, m2]) as tf.Tensor;
  assert.deepEqual(Array.from(await catLast.data()), [1, 0, 0, 1, 0, 0]);
  assert.equal(L.Dot({ axes: 2 }).computeMask!([x, x], [m1, m2]), null);
  tf.dispose([x, m1, m2, and, cat, catLast]);
});
