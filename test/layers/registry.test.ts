import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigDecodeError, UnknownLayerError } from '../../src/core/errors.js';
import { Dense } from '../../src/layers/dense.js';
import { knownLayers, layerFromConfig, registerLayer } from '../../src/layers/registry.js';
import { minimal } from '../helpers/minimal-configs.js';



test('every known class builds from its Keras config, aliases to the Keras class', () => {
  const aliases: Record<string, string> = {
    Convolution2D: 'Conv2D', MaxPool2D: 'MaxPooling2D', AvgPool2D: 'AveragePooling2D', GlobalAvgPool2D: 'GlobalAveragePooling2D',
    GlobalMaxPool2D: 'GlobalMaxPooling2D', BatchNormalizationV1: 'BatchNormalization', BatchNormalizationV2: 'BatchNormalization',
    Convolution1D: 'Conv1D', Convolution3D: 'Conv3D', Convolution2DTranspose: 'Conv2DTranspose', Convolution3DTranspose: 'Conv3DTranspose',
    SeparableConvolution1D: 'SeparableConv1D', SeparableConvolution2D: 'SeparableConv2D', MaxPool1D: 'MaxPooling1D', MaxPool3D: 'MaxPooling3D',
    AvgPool1D: 'AveragePooling1D', AvgPool3D: 'AveragePooling3D', GlobalAvgPool1D: 'GlobalAveragePooling1D', GlobalAvgPool3D: 'GlobalAveragePooling3D',
    GlobalMaxPool1D: 'GlobalMaxPooling1D', GlobalMaxPool3D: 'GlobalMaxPooling3D',
  };
  const names = knownLayers();
  for (const expected of ['Activation', 'AveragePooling2D', 'BatchNormalization', 'Conv2D', 'Dense', 'Dropout', 'ELU', 'Embedding', 'Flatten',
    'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'InputLayer', 'LeakyReLU', 'MaxPooling2D', 'PReLU', 'ReLU', 'Reshape', 'Softmax', 'ThresholdedReLU'])
    assert.ok(names.includes(expected), expected);
  for (const name of names) {
    const canonical = aliases[name] ?? name;
    const layer = layerFromConfig({ class_name: name, config: { ...(minimal[canonical] ?? {}), name: `x_${name}` } });
    assert.equal(layer.className, canonical, name);
    assert.equal(layer.name, `x_${name}`);
  }
});

test('Keras default names: snake_case class name, then _1, _2', () => {
  const a = layerFromConfig({ class_name: 'LeakyReLU', config: {} });
  const b = layerFromConfig({ class_name: 'LeakyReLU', config: {} });
  assert.match(a.name, /^leaky_re_lu(_\d+)?$/);
  assert.notEqual(a.name, b.name);
  assert.match(layerFromConfig({ class_name: 'Conv2D', config: minimal.Conv2D }).name, /^conv2d(_\d+)?$/);
  assert.match(layerFromConfig({ class_name: 'BatchNormalization', config: {} }).name, /^batch_normalization(_\d+)?$/);
  assert.match(layerFromConfig({ class_name: 'MaxPooling2D', config: {} }).name, /^max_pooling2d(_\d+)?$/);
});

test('an unknown class is an UnknownLayerError listing the known names', () => {
  assert.throws(
    () => layerFromConfig({ class_name: 'NoSuchLayer', config: {} }),
    (e: unknown) => e instanceof UnknownLayerError && e.className === 'NoSuchLayer' && e.known.includes('Conv2D') && /registerLayer/.test(e.message),
  );
});

test('registerLayer adds a custom class', () => {
  registerLayer('MyDense', (c) => Dense({ ...(c as { units: number }), units: 7 }));
  const layer = layerFromConfig({ class_name: 'MyDense', config: { units: 1 } });
  assert.equal(layer.config.units, 7);
  assert.ok(knownLayers().includes('MyDense'));
});

test('a bad field is a ConfigDecodeError naming it', () => {
  assert.throws(() => layerFromConfig({ class_name: 'Conv2D', config: { filters: 'x', kernel_size: 3 } }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'filters');
  assert.throws(() => layerFromConfig({ class_name: 'MaxPooling2D', config: { pool_size: [2, 'a'] } }), (e: unknown) => e instanceof ConfigDecodeError && e.path.startsWith('pool_size'));
  assert.throws(() => layerFromConfig({ class_name: 'Conv2D', config: { filters: 2, kernel_size: [1, 2, 3] } }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'kernel_size');
  assert.throws(() => layerFromConfig({ class_name: 'Flatten', config: { data_format: 'nhwc' } }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'data_format');
});

test('Keras 2 defaults in the serialised config', () => {
  const conv = layerFromConfig({ class_name: 'Conv2D', config: { filters: 4, kernel_size: 3, name: 'c' } }).getConfig();
  assert.deepEqual(conv, {
    name: 'c', trainable: true, dtype: 'float32', filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'valid',
    data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation: 'linear', use_bias: true,
    kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, bias_initializer: { class_name: 'Zeros', config: {} },
    kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
  });
  const bn = layerFromConfig({ class_name: 'BatchNormalization', config: { name: 'bn' } }).getConfig();
  assert.deepEqual(bn, {
    name: 'bn', trainable: true, dtype: 'float32', axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true,
    beta_initializer: { class_name: 'Zeros', config: {} }, gamma_initializer: { class_name: 'Ones', config: {} },
    moving_mean_initializer: { class_name: 'Zeros', config: {} }, moving_variance_initializer: { class_name: 'Ones', config: {} },
    beta_regularizer: null, gamma_regularizer: null, beta_constraint: null, gamma_constraint: null,
  });
  assert.deepEqual(layerFromConfig({ class_name: 'MaxPooling2D', config: { name: 'p', pool_size: 3 } }).getConfig(), {
    name: 'p', trainable: true, dtype: 'float32', pool_size: [3, 3], padding: 'valid', strides: [3, 3], data_format: 'channels_last',
  });
  const emb = layerFromConfig({ class_name: 'Embedding', config: { name: 'e', input_dim: 10, output_dim: 3 } }).getConfig();
  assert.deepEqual(emb, {
    name: 'e', trainable: true, dtype: 'float32', batch_input_shape: [null, null], input_dim: 10, output_dim: 3,
    embeddings_initializer: { class_name: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed: null } },
    embeddings_regularizer: null, activity_regularizer: null, embeddings_constraint: null, mask_zero: false, input_length: null,
  });
  assert.deepEqual(layerFromConfig({ class_name: 'PReLU', config: { name: 'pr' } }).getConfig(), {
    name: 'pr', trainable: true, dtype: 'float32', alpha_initializer: { class_name: 'Zeros', config: {} }, alpha_regularizer: null, alpha_constraint: null, shared_axes: null,
  });
  assert.deepEqual(layerFromConfig({ class_name: 'Dropout', config: { name: 'd', rate: 0.2 } }).getConfig(), { name: 'd', trainable: true, dtype: 'float32', rate: 0.2, noise_shape: null, seed: null });
  assert.deepEqual(layerFromConfig({ class_name: 'GlobalAveragePooling2D', config: { name: 'g' } }).getConfig(), { name: 'g', trainable: true, dtype: 'float32', data_format: 'channels_last', keepdims: false });
});
