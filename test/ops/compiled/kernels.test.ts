/**
 * Lowerings against the eager kernels: gradients of pooling (ties,
 * remainders, overlapping, padded and non-square windows), convolutions (strides,
 * 'same' padding, dilation, depthwise) and ReLU, traced and run on ONNX
 * Runtime, equal the wasm backend's within 1e-5.
 */
import { backendReady } from '../../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { compiled } from '../../../src/ops/compiled/index.js';
import { values } from '../../helpers/trainable-layers.js';

/** Small integers: pooling windows with ties. */
const ints = (seed: number, shape: number[]) => tf.tensor(values(seed, tf.util.sizeFromShape(shape), 0, 4).map(Math.floor), shape);
const reals = (seed: number, shape: number[]) => tf.tensor(values(seed, tf.util.sizeFromShape(shape), -1, 1), shape);

function same(name: string, f: () => tf.Tensor[]): void {
  const want = f();
  const got = compiled(f);
  want.forEach((w, i) => {
    const a = got[i].dataSync();
    const b = w.dataSync();
    assert.deepEqual(got[i].shape, w.shape, `${name}: shape of output ${i}`);
    for (let j = 0; j < b.length; j++)
      assert.ok(Math.abs(a[j] - b[j]) <= 1e-5 * (1 + Math.abs(b[j])) || (Number.isNaN(a[j]) && Number.isNaN(b[j])), `${name}: output ${i}[${j}] ${a[j]} vs ${b[j]}`);
  });
  tf.dispose([...want, ...got]);
}

/** Gradients of sum(f(x, w) * r) for a fixed random r, with respect to every argument. */
const grads = (f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]) => () =>
  tf.tidy(() => {
    const r = reals(99, f(...xs).shape);
    return tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), r)))(xs);
  });

for (const [h, w, k, s, pad] of [
  [6, 6, 2, 2, 'valid'], [5, 7, 2, 2, 'valid'], [6, 6, 3, 2, 'same'], [5, 5, 3, 1, 'valid'], [7, 8, 3, 3, 'valid'], [5, 7, 2, 2, 'same'], [6, 7, [2, 3], [2, 3], 'valid'],
] as const)
  test(`maxPool ${h}x${w} window ${k} stride ${s} ${pad}: forward and gradient (ties go to the first maximum)`, () => {
    const x = ints(h * w + (typeof k === 'number' ? k : k[0] + k[1]), [2, h, w, 3]);
    const pool = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, k as number | [number, number], s as number | [number, number], pad);
    same('maxPool', () => [pool(x)]);
    same('maxPool grad', grads(pool, [x]));
    x.dispose();
  });

// The addon folds the ReLU's gradient into the pooling gradient's kernel (fuse.ts): windows whose maximum is 0 or below.
for (const [h, w, k, s, pad] of [[6, 6, 2, 2, 'valid'], [5, 7, 2, 2, 'valid'], [6, 6, 3, 2, 'same'], [7, 8, 3, 3, 'valid']] as const)
  test(`maxPool of relu ${h}x${w} window ${k} stride ${s} ${pad}: gradient, with the mask of the relu's input and of its output`, () => {
    const x = tf.tidy(() => tf.sub(ints(h * w + k, [2, h, w, 8]), 2));
    const pool = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, k, s, pad);
    same('maxPool of relu grad', grads((a) => pool(tf.relu(a)), [x]));
    same('maxPool of fused conv relu grad', grads((a) => pool(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: tf.reshape(tf.eye(8), [1, 1, 8, 8]) as tf.Tensor4D, strides: 1, pad: 'valid', activation: 'relu' })), [x]));
    x.dispose();
  });

test('maxPool of relu of conv2d plus bias: all gradients (the bias gradient comes from the pooling kernel\'s sums)', () => {
  const x = reals(8, [2, 8, 7, 3]);
  const f = reals(9, [3, 3, 3, 8]);
  const b = reals(10, [8]);
  const layer = (a: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => tf.maxPool(tf.relu(tf.add(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), c)) as tf.Tensor4D, 2, 2, 'valid');
  same('conv bias relu pool grads', grads(layer, [x, f, b]));
  tf.dispose([x, f, b]);
});

test('maxPool of relu: a NaN gradient where the mask is 0 stays NaN (tfjs multiplies by the mask)', () => {
  const x = tf.tensor4d([-1, -2, 3, 0, -0.5, -4, 0, 0], [1, 2, 4, 1]);
  const r = tf.tensor4d([NaN, 1], [1, 1, 2, 1]);
  same('relu mask times NaN', () => tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(tf.relu(a) as tf.Tensor4D, 2, 2, 'valid'), r)))([x]));
  tf.dispose([x, r]);
});

test('a sum over leading axes (a bias gradient, as a matrix product from 4096 rows) and over other axes', () => {
  const x = reals(7, [8, 24, 24, 4]);
  same('sum', () => [tf.sum(x, [0, 1, 2]), tf.sum(x, [0, 1, 2], true), tf.sum(x, [0, 1]), tf.sum(x, [1, 2]), tf.sum(tf.slice(x, 0, 1), [0, 1, 2])]);
  x.dispose();
});

test('relu gradient is 0 at 0 and below', () => {
  const x = tf.tensor([-1, 0, 0.5, 2, -0.25, 0]);
  same('relu grad', grads((a) => tf.relu(a), [x]));
  x.dispose();
});

// fuse.ts lowers a convolution plus a bias as one Conv with its bias input.
test('conv2d plus a bias per channel: forward and the three gradients', () => {
  const x = reals(4, [2, 7, 6, 3]);
  const f = reals(5, [3, 3, 3, 4]);
  const b = reals(6, [4]);
  same('conv2d plus bias', grads((a, w, c) => tf.add(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), c), [x, f, b]));
  same('conv2d plus bias forward', () => [tf.add(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'valid'), b)]);
  tf.dispose([x, f, b]);
});

for (const [stride, pad, dilation] of [[1, 'valid', 1], [1, 'same', 1], [2, 'same', 1], [2, 'valid', 1], [1, 'same', 2]] as const)
  test(`conv2d stride ${stride} ${pad} dilation ${dilation}: forward and both gradients; depthwise too`, () => {
    const x = reals(1, [2, 7, 6, 3]);
    const f = reals(2, [3, 3, 3, 4]);
    const d = reals(3, [3, 3, 3, 2]);
    same('conv2d', grads((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad, 'NHWC', dilation), [x, f]));
    if (dilation === 1) same('depthwise', grads((a, b) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), [x, d]));
    tf.dispose([x, f, d]);
  });
