import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { runLayerTest, type LayerTestCase } from '../../src/testing/index.js';
import * as L from '../../src/layers/index.js';

const ints = (max: number) => (shape: number[]) => tf.randomUniform(shape, 0, max, 'int32', 5);

const cases: [string, () => LayerTestCase][] = [
  ['InputLayer', () => ({ layer: L.InputLayer({ batch_input_shape: [null, 4] }), inputShape: [null, 4], expectedParams: 0 })],
  ['Dense', () => ({ layer: L.Dense({ units: 3, kernel_regularizer: 'l2' }), inputShape: [null, 4], expectedParams: 15, expectedOutputShape: [null, 3] })],
  ['Activation', () => ({ layer: L.Activation({ activation: 'tanh' }), inputShape: [null, 4, 5], expectedParams: 0, expectedOutputShape: [null, 4, 5] })],
  ['Dropout', () => ({ layer: L.Dropout({ rate: 0.3, noise_shape: [null, 1, 5], seed: 4 }), inputShape: [null, 4, 5], expectedParams: 0, training: true })],
  ['Flatten', () => ({ layer: L.Flatten({}), inputShape: [null, 4, 5, 2], expectedParams: 0, expectedOutputShape: [null, 40] })],
  ['Flatten channels_first', () => ({ layer: L.Flatten({ data_format: 'channels_first' }), inputShape: [null, 2, 3, 4], expectedParams: 0, expectedOutputShape: [null, 24] })],
  ['Flatten unknown dim', () => ({ layer: L.Flatten(), inputShape: [null, null, 2], expectedParams: 0, expectedOutputShape: [null, null] })],
  ['Reshape', () => ({ layer: L.Reshape({ target_shape: [2, -1] }), inputShape: [null, 3, 4], expectedParams: 0, expectedOutputShape: [null, 2, 6] })],
  ['Conv2D', () => ({ layer: L.Conv2D({ filters: 8, kernel_size: 3 }), inputShape: [null, 7, 6, 3], expectedParams: 224, expectedOutputShape: [null, 5, 4, 8] })],
  ['Conv2D channels_first strided same', () => ({
    layer: L.Conv2D({ filters: 4, kernel_size: [3, 2], strides: 2, padding: 'same', data_format: 'channels_first', use_bias: false, activation: 'relu' }),
    inputShape: [null, 2, 7, 5], expectedParams: 48, expectedOutputShape: [null, 4, 4, 3],
  })],
  ['Conv2D dilated, groups', () => ({ layer: L.Conv2D({ filters: 4, kernel_size: 3, dilation_rate: 2, groups: 2 }), inputShape: [null, 9, 9, 6], expectedParams: 3 * 3 * 3 * 4 + 4, expectedOutputShape: [null, 5, 5, 4] })],
  ['MaxPooling2D', () => ({ layer: L.MaxPooling2D({}), inputShape: [null, 5, 4, 3], expectedParams: 0, expectedOutputShape: [null, 2, 2, 3] })],
  ['MaxPooling2D same cf', () => ({ layer: L.MaxPooling2D({ pool_size: 3, strides: 2, padding: 'same', data_format: 'channels_first' }), inputShape: [null, 2, 5, 6], expectedParams: 0, expectedOutputShape: [null, 2, 3, 3] })],
  ['AveragePooling2D', () => ({ layer: L.AveragePooling2D({ pool_size: [2, 3], strides: 1 }), inputShape: [null, 5, 4, 3], expectedParams: 0, expectedOutputShape: [null, 4, 2, 3] })],
  ['GlobalAveragePooling2D', () => ({ layer: L.GlobalAveragePooling2D({}), inputShape: [null, 5, 4, 3], expectedParams: 0, expectedOutputShape: [null, 3] })],
  ['GlobalMaxPooling2D keepdims cf', () => ({ layer: L.GlobalMaxPooling2D({ keepdims: true, data_format: 'channels_first' }), inputShape: [null, 3, 5, 4], expectedParams: 0, expectedOutputShape: [null, 3, 1, 1] })],
  ['BatchNormalization', () => ({ layer: L.BatchNormalization({}), inputShape: [null, 5, 4, 6], expectedParams: 24, expectedTrainable: 12, training: true })],
  ['BatchNormalization axis 1, no scale', () => ({ layer: L.BatchNormalization({ axis: 1, scale: false }), inputShape: [null, 3, 4], expectedParams: 9, expectedTrainable: 3, training: true })],
  ['BatchNormalization two axes', () => ({ layer: L.BatchNormalization({ axis: [1, 2] }), inputShape: [null, 3, 4], expectedParams: 48, expectedTrainable: 24, training: true })],
  ['Embedding', () => ({ layer: L.Embedding({ input_dim: 10, output_dim: 4, mask_zero: true, input_length: 5 }), inputShape: [null, 5], expectedParams: 40, expectedOutputShape: [null, 5, 4], input: ints(10) })],
  ['ReLU', () => ({ layer: L.ReLU({ max_value: 1.5, negative_slope: 0.1, threshold: 0.2 }), inputShape: [null, 6], expectedParams: 0 })],
  ['LeakyReLU', () => ({ layer: L.LeakyReLU({}), inputShape: [null, 6], expectedParams: 0 })],
  ['PReLU', () => ({ layer: L.PReLU({ shared_axes: [1, 2] }), inputShape: [null, 4, 5, 3], expectedParams: 3 })],
  ['PReLU unshared', () => ({ layer: L.PReLU({ alpha_initializer: { class_name: 'Constant', config: { value: 0.25 } } }), inputShape: [null, 4, 5], expectedParams: 20 })],
  ['ELU', () => ({ layer: L.ELU({ alpha: 0.5 }), inputShape: [null, 6], expectedParams: 0 })],
  ['ThresholdedReLU', () => ({ layer: L.ThresholdedReLU({}), inputShape: [null, 6], expectedParams: 0 })],
  ['Softmax', () => ({ layer: L.Softmax({ axis: 1 }), inputShape: [null, 4, 5], expectedParams: 0 })],
];

for (const [name, make] of cases) test(`run_layer_test: ${name}`, () => runLayerTest(make()));
