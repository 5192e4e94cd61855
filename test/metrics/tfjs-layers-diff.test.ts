import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { getLoss } from '../../src/losses/index.js';
import { getMetric } from '../../src/metrics/index.js';
import { assertClose, labels, oneHotRows, rng, uniform } from '../losses/reference.js';

// Differential test: the same per-sample functions in tfjs-layers (which
// follows Keras too) on the same backend and inputs. Same formula: 1e-6
// relative; binary crossentropy differs in how epsilon enters (tfjs-layers
// goes through logits): 1e-4 relative on probabilities inside [0.02, 0.98].

const r = rng(5);
const B = 8;
const C = 4;
const regTrue = tf.tensor2d(uniform(r, B, C, 0.1, 2));
const regPred = tf.tensor2d(uniform(r, B, C, -1, 2));
const cls = labels(r, B, C);
const oneHot = tf.tensor2d(oneHotRows(cls, C));
const probs = tf.tensor2d(uniform(r, B, C, 0.02, 0.98));
const bin = tf.tensor2d(uniform(r, B, C, 0, 1).map((row) => row.map((v) => (v < 0.5 ? 0 : 1))));

const pairs: [string, tf.Tensor, tf.Tensor, (t: tf.Tensor, p: tf.Tensor) => tf.Tensor, number][] = [
  ['mse', regTrue, regPred, tfl.metrics.MSE, 1e-6],
  ['mae', regTrue, regPred, tfl.metrics.meanAbsoluteError, 1e-6],
  ['mape', regTrue, regPred, tfl.metrics.MAPE, 1e-6],
  ['binary_accuracy', bin, probs, tfl.metrics.binaryAccuracy, 0],
  ['categorical_accuracy', oneHot, probs, tfl.metrics.categoricalAccuracy, 0],
  ['categorical_crossentropy', oneHot, probs, (t, p) => tfl.metrics.categoricalCrossentropy(t, p), 1e-6],
  ['binary_crossentropy', bin, probs, tfl.metrics.binaryCrossentropy, 1e-4],
];

for (const [name, t, p, theirs, rtol] of pairs) {
  test(`${name} matches tfjs-layers`, () => {
    const ours = getMetric(name).fn(t, p);
    assertClose(ours.dataSync(), theirs(t, p).dataSync(), rtol, 1e-7, name);
  });
}

test('sparse_categorical_accuracy matches tfjs-layers on [batch, 1] targets', () => {
  const t = tf.tensor2d(cls, [B, 1]);
  assertClose(getMetric('sparse_categorical_accuracy').fn(t, probs).dataSync(), tfl.metrics.sparseCategoricalAccuracy(t, probs).dataSync(), 0, 0);
});

test('the cosine_similarity loss matches tfjs-layers cosineProximity', () => {
  assertClose(getLoss('cosine_similarity').fn(regTrue, regPred).dataSync(), tfl.metrics.cosineProximity(regTrue, regPred).dataSync(), 1e-6, 1e-7);
});
