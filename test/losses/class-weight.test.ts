import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { classWeightsToSampleWeights, computeLoss, getLoss } from '../../src/losses/index.js';
import { assertClose, labels, oneHotRows, ref, rng, sumOverBatch, uniform } from './reference.js';

const cw = { 0: 0.5, 1: 2, 2: 3.5 };
const table = [0.5, 2, 3.5];

test('one-hot targets use argmax; sparse [batch] and [batch, 1] targets use the value', () => {
  const before = tf.memory().numTensors;
  const cls = [2, 0, 1, 1, 2, 0];
  const want = cls.map((c) => table[c]);
  for (const yt of [tf.tensor2d(oneHotRows(cls, 3)), tf.tensor1d(cls, 'int32'), tf.tensor2d(cls, [6, 1]), tf.tensor1d(cls, 'float32')]) {
    const w = classWeightsToSampleWeights(yt, cw);
    assert.deepEqual(w.shape, [6]);
    assertClose(w.dataSync(), want, 0, 0);
    tf.dispose([yt, w]);
  }
  assert.equal(tf.memory().numTensors, before);
});

test('binary 0/1 targets (float) map through their value, truncated as a cast to int', () => {
  const w = classWeightsToSampleWeights(tf.tensor2d([[0], [1], [1], [0.7]]), { 0: 1, 1: 10 });
  assertClose(w.dataSync(), [1, 10, 10, 1], 0, 0);
});

test('class weights feed the weighted loss exactly like the equivalent sample weights', () => {
  const r = rng(7);
  const cls = labels(r, 9, 3);
  const p = uniform(r, 9, 3, 0.05, 1);
  const w = classWeightsToSampleWeights(tf.tensor1d(cls), cw);
  const s = computeLoss(getLoss('sparse_categorical_crossentropy'), tf.tensor1d(cls), tf.tensor2d(p), w);
  assertClose(s.dataSync(), sumOverBatch(ref.scce(cls, p), cls.map((c) => table[c])));
});

test('keys must be 0..n-1, classes in range, targets of rank <= 2', () => {
  assert.throws(() => classWeightsToSampleWeights(tf.tensor1d([0, 1]), { 0: 1, 2: 1 }), InvalidArgumentError);
  assert.throws(() => classWeightsToSampleWeights(tf.tensor1d([0, 1]), {}), InvalidArgumentError);
  assert.throws(() => classWeightsToSampleWeights(tf.tensor1d([0, 3]), cw), /class of sample 1/);
  assert.throws(() => classWeightsToSampleWeights(tf.zeros([2, 2, 2]), cw), /3\+ dimensional/);
});
