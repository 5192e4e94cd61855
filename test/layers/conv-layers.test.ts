/**
 * Convolution, pooling and shape layers: the shared run_layer_test checks
 * (output shape vs computeOutputShape, Keras parameter count, JSON config
 * round trip through the registry, no leaks), Keras default names, and the
 * forward pass against @tensorflow/tfjs-layers with the same weights on the
 * wasm and cpu backends (1e-5 relative to the reference's largest magnitude).
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { makeKey } from '../../src/core/rng.js';
import { ConfigDecodeError } from '../../src/core/errors.js';
import { runLayerTest, type LayerTestCase } from '../../src/testing/index.js';
import * as L from '../../src/layers/index.js';
import type { Layer } from '../../src/layers/layer.js';
import { layerFromConfig } from '../../src/layers/registry.js';

const RTOL = 1e-5;

const layerCases: [string, () => LayerTestCase][] = [
  ['Conv1D causal dilated', () => ({ layer: L.Conv1D({ filters: 4, kernel_size: 3, padding: 'causal', dilation_rate: 2 }), inputShape: [null, 8, 3], expectedParams: 3 * 3 * 4 + 4, expectedOutputShape: [null, 8, 4] })],
  ['Conv1D channels_first strided', () => ({ layer: L.Conv1D({ filters: 2, kernel_size: 2, strides: 2, data_format: 'channels_first', use_bias: false }), inputShape: [null, 3, 7], expectedParams: 12, expectedOutputShape: [null, 2, 3] })],
  ['Conv3D', () => ({ layer: L.Conv3D({ filters: 2, kernel_size: [2, 3, 2], padding: 'same' }), inputShape: [null, 4, 5, 3, 3], expectedParams: 2 * 3 * 2 * 3 * 2 + 2, expectedOutputShape: [null, 4, 5, 3, 2] })],
  ['Conv3D channels_first dilated', () => ({ layer: L.Conv3D({ filters: 3, kernel_size: 2, dilation_rate: 2, data_format: 'channels_first' }), inputShape: [null, 2, 5, 5, 5], expectedParams: 8 * 2 * 3 + 3, expectedOutputShape: [null, 3, 3, 3, 3] })],
  ['SeparableConv1D', () => ({ layer: L.SeparableConv1D({ filters: 4, kernel_size: 3, depth_multiplier: 2 }), inputShape: [null, 7, 3], expectedParams: 3 * 3 * 2 + 6 * 4 + 4, expectedOutputShape: [null, 5, 4] })],
  ['SeparableConv2D', () => ({ layer: L.SeparableConv2D({ filters: 4, kernel_size: 3, padding: 'same', strides: 2 }), inputShape: [null, 6, 5, 2], expectedParams: 9 * 2 + 2 * 4 + 4, expectedOutputShape: [null, 3, 3, 4] })],
  ['DepthwiseConv2D', () => ({ layer: L.DepthwiseConv2D({ kernel_size: 3, depth_multiplier: 2 }), inputShape: [null, 5, 6, 3], expectedParams: 9 * 3 * 2 + 6, expectedOutputShape: [null, 3, 4, 6] })],
  ['DepthwiseConv2D channels_first', () => ({ layer: L.DepthwiseConv2D({ kernel_size: 2, data_format: 'channels_first', use_bias: false }), inputShape: [null, 3, 5, 6], expectedParams: 12, expectedOutputShape: [null, 3, 4, 5] })],
  ['Conv2DTranspose', () => ({ layer: L.Conv2DTranspose({ filters: 3, kernel_size: 3, strides: 2 }), inputShape: [null, 4, 5, 2], expectedParams: 9 * 3 * 2 + 3, expectedOutputShape: [null, 9, 11, 3] })],
  ['Conv2DTranspose output_padding same cf', () => ({ layer: L.Conv2DTranspose({ filters: 2, kernel_size: 3, strides: 2, padding: 'same', output_padding: 1, data_format: 'channels_first' }), inputShape: [null, 2, 3, 4], expectedParams: 9 * 2 * 2 + 2, expectedOutputShape: [null, 2, 6, 8] })],
  ['Conv3DTranspose', () => ({ layer: L.Conv3DTranspose({ filters: 2, kernel_size: 2, strides: 2, padding: 'same' }), inputShape: [null, 2, 3, 2, 3], expectedParams: 8 * 2 * 3 + 2, expectedOutputShape: [null, 4, 6, 4, 2] })],
  ['LocallyConnected1D', () => ({ layer: L.LocallyConnected1D({ filters: 3, kernel_size: 2 }), inputShape: [null, 5, 2], expectedParams: 4 * 4 * 3 + 4 * 3, expectedOutputShape: [null, 4, 3] })],
  ['LocallyConnected2D cf', () => ({ layer: L.LocallyConnected2D({ filters: 2, kernel_size: 2, strides: 2, data_format: 'channels_first' }), inputShape: [null, 3, 4, 5], expectedParams: 4 * 12 * 2 + 4 * 2, expectedOutputShape: [null, 2, 2, 2] })],
  ['Cropping1D', () => ({ layer: L.Cropping1D({}), inputShape: [null, 5, 2], expectedParams: 0, expectedOutputShape: [null, 3, 2] })],
  ['Cropping2D', () => ({ layer: L.Cropping2D({ cropping: [[1, 0], [0, 2]] }), inputShape: [null, 5, 6, 2], expectedParams: 0, expectedOutputShape: [null, 4, 4, 2] })],
  ['Cropping3D cf', () => ({ layer: L.Cropping3D({ cropping: 1, data_format: 'channels_first' }), inputShape: [null, 2, 4, 5, 3], expectedParams: 0, expectedOutputShape: [null, 2, 2, 3, 1] })],
  ['UpSampling1D', () => ({ layer: L.UpSampling1D({}), inputShape: [null, 3, 2], expectedParams: 0, expectedOutputShape: [null, 6, 2] })],
  ['UpSampling2D bilinear', () => ({ layer: L.UpSampling2D({ size: [2, 3], interpolation: 'bilinear' }), inputShape: [null, 3, 2, 2], expectedParams: 0, expectedOutputShape: [null, 6, 6, 2] })],
  ['UpSampling3D cf', () => ({ layer: L.UpSampling3D({ data_format: 'channels_first' }), inputShape: [null, 2, 2, 1, 3], expectedParams: 0, expectedOutputShape: [null, 2, 4, 2, 6] })],
  ['ZeroPadding1D', () => ({ layer: L.ZeroPadding1D({ padding: [2, 0] }), inputShape: [null, 3, 2], expectedParams: 0, expectedOutputShape: [null, 5, 2] })],
  ['ZeroPadding2D', () => ({ layer: L.ZeroPadding2D({}), inputShape: [null, 3, 2, 2], expectedParams: 0, expectedOutputShape: [null, 5, 4, 2] })],
  ['ZeroPadding3D', () => ({ layer: L.ZeroPadding3D({ padding: [1, 0, 2] }), inputShape: [null, 2, 2, 2, 1], expectedParams: 0, expectedOutputShape: [null, 4, 2, 6, 1] })],
  ['MaxPooling1D', () => ({ layer: L.MaxPooling1D({}), inputShape: [null, 7, 3], expectedParams: 0, expectedOutputShape: [null, 3, 3] })],
  ['AveragePooling1D same cf', () => ({ layer: L.AveragePooling1D({ pool_size: 3, strides: 2, padding: 'same', data_format: 'channels_first' }), inputShape: [null, 2, 7], expectedParams: 0, expectedOutputShape: [null, 2, 4] })],
  ['MaxPooling3D', () => ({ layer: L.MaxPooling3D({}), inputShape: [null, 4, 5, 4, 2], expectedParams: 0, expectedOutputShape: [null, 2, 2, 2, 2] })],
  ['AveragePooling3D cf', () => ({ layer: L.AveragePooling3D({ pool_size: 2, strides: 1, data_format: 'channels_first' }), inputShape: [null, 2, 3, 3, 4], expectedParams: 0, expectedOutputShape: [null, 2, 2, 2, 3] })],
  ['GlobalAveragePooling1D', () => ({ layer: L.GlobalAveragePooling1D({}), inputShape: [null, 5, 3], expectedParams: 0, expectedOutputShape: [null, 3] })],
  ['GlobalMaxPooling1D keepdims cf', () => ({ layer: L.GlobalMaxPooling1D({ keepdims: true, data_format: 'channels_first' }), inputShape: [null, 3, 5], expectedParams: 0, expectedOutputShape: [null, 3, 1] })],
  ['GlobalAveragePooling3D keepdims', () => ({ layer: L.GlobalAveragePooling3D({ keepdims: true }), inputShape: [null, 2, 3, 2, 4], expectedParams: 0, expectedOutputShape: [null, 1, 1, 1, 4] })],
  ['GlobalMaxPooling3D cf', () => ({ layer: L.GlobalMaxPooling3D({ data_format: 'channels_first' }), inputShape: [null, 4, 2, 3, 2], expectedParams: 0, expectedOutputShape: [null, 4] })],
  ['RepeatVector', () => ({ layer: L.RepeatVector({ n: 3 }), inputShape: [null, 4], expectedParams: 0, expectedOutputShape: [null, 3, 4] })],
  ['Permute', () => ({ layer: L.Permute({ dims: [3, 1, 2] }), inputShape: [null, 2, 3, 4], expectedParams: 0, expectedOutputShape: [null, 4, 2, 3] })],
];
for (const [name, make] of layerCases) test(`run_layer_test: ${name}`, () => runLayerTest(make()));

test('Keras 2 default names, weight names and config keys', () => {
  const names: [Layer, string][] = [
    [L.Conv1D({ filters: 1, kernel_size: 1 }), 'conv1d'],
    [L.SeparableConv2D({ filters: 1, kernel_size: 1 }), 'separable_conv2d'],
    [L.DepthwiseConv2D({ kernel_size: 1 }), 'depthwise_conv2d'],
    [L.Conv2DTranspose({ filters: 1, kernel_size: 1 }), 'conv2d_transpose'],
    [L.ZeroPadding2D(), 'zero_padding2d'],
    [L.UpSampling2D(), 'up_sampling2d'],
    [L.Cropping2D(), 'cropping2d'],
    [L.LocallyConnected2D({ filters: 1, kernel_size: 1 }), 'locally_connected2d'],
    [L.GlobalMaxPooling1D(), 'global_max_pooling1d'],
    [L.RepeatVector({ n: 2 }), 'repeat_vector'],
  ];
  for (const [layer, prefix] of names) assert.match(layer.name, new RegExp(`^${prefix}(_\\d+)?$`));
  const sep = L.SeparableConv2D({ filters: 2, kernel_size: 3 });
  const init = sep.init(makeKey(1), [null, 5, 5, 3]);
  assert.deepEqual(Object.keys(init.params), ['depthwise_kernel', 'pointwise_kernel', 'bias']);
  assert.deepEqual(init.params.pointwise_kernel.shape, [1, 1, 3, 2]);
  tf.dispose(Object.values(init.params));
  const dw = L.DepthwiseConv2D({ kernel_size: 3 }).getConfig() as Record<string, unknown>;
  assert.ok(!('filters' in dw) && !('kernel_initializer' in dw) && dw.depth_multiplier === 1 && 'depthwise_initializer' in dw);
  const t2 = L.Conv2DTranspose({ filters: 2, kernel_size: 3 });
  assert.equal((t2.getConfig() as Record<string, unknown>).output_padding, null);
  const k = t2.init(makeKey(1), [null, 4, 4, 5]);
  assert.deepEqual(k.params.kernel.shape, [3, 3, 2, 5], 'Conv2DTranspose kernel is (kh, kw, filters, in)');
  tf.dispose(Object.values(k.params));
  const p1 = L.MaxPooling1D().getConfig() as Record<string, unknown>;
  assert.deepEqual([p1.pool_size, p1.strides, p1.padding, p1.data_format], [[2], [2], 'valid', 'channels_last']);
  assert.deepEqual((L.ZeroPadding2D().getConfig() as Record<string, unknown>).padding, [[1, 1], [1, 1]]);
  assert.deepEqual((L.Cropping3D().getConfig() as Record<string, unknown>).cropping, [[1, 1], [1, 1], [1, 1]]);
  // Aliases Keras 2 deserialises.
  assert.equal(layerFromConfig({ class_name: 'Convolution1D', config: { filters: 1, kernel_size: 2 } }).className, 'Conv1D');
  assert.equal(layerFromConfig({ class_name: 'MaxPool3D', config: {} }).className, 'MaxPooling3D');
});

test('bad configs are refused with the field named', () => {
  assert.throws(() => L.Conv2DTranspose({ filters: 2, kernel_size: 3, strides: 2, output_padding: 2 }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'output_padding');
  assert.throws(() => L.Conv3D({ filters: 2, kernel_size: 3, padding: 'causal' }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'padding');
  assert.throws(() => L.LocallyConnected2D({ filters: 2, kernel_size: 3, implementation: 2 }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'implementation');
  assert.throws(() => L.UpSampling2D({ interpolation: 'bicubic' }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'interpolation');
  assert.throws(() => L.Permute({ dims: [1, 1] }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'dims');
  assert.throws(() => L.ZeroPadding2D({ padding: [1, 2, 3] }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'padding');
});

interface DiffCase {
  name: string;
  ours: () => Layer;
  theirs: () => tfl.layers.Layer;
  shape: number[];
}

const diffCases: DiffCase[] = [
  { name: 'Conv1D valid', ours: () => L.Conv1D({ filters: 3, kernel_size: 3, activation: 'tanh' }), theirs: () => tfl.layers.conv1d({ filters: 3, kernelSize: 3, activation: 'tanh' }), shape: [2, 8, 2] },
  { name: 'Conv1D same strided', ours: () => L.Conv1D({ filters: 2, kernel_size: 4, strides: 3, padding: 'same' }), theirs: () => tfl.layers.conv1d({ filters: 2, kernelSize: 4, strides: 3, padding: 'same' }), shape: [2, 10, 3] },
  { name: 'Conv3D', ours: () => L.Conv3D({ filters: 2, kernel_size: [2, 3, 2], strides: [1, 2, 1] }), theirs: () => tfl.layers.conv3d({ filters: 2, kernelSize: [2, 3, 2], strides: [1, 2, 1] }), shape: [2, 4, 6, 5, 3] },
  { name: 'Conv3D same', ours: () => L.Conv3D({ filters: 3, kernel_size: 3, padding: 'same' }), theirs: () => tfl.layers.conv3d({ filters: 3, kernelSize: 3, padding: 'same' }), shape: [1, 4, 5, 3, 2] },
  { name: 'SeparableConv2D', ours: () => L.SeparableConv2D({ filters: 3, kernel_size: 3, depth_multiplier: 2 }), theirs: () => tfl.layers.separableConv2d({ filters: 3, kernelSize: 3, depthMultiplier: 2 }), shape: [2, 6, 5, 2] },
  { name: 'SeparableConv2D same strided', ours: () => L.SeparableConv2D({ filters: 4, kernel_size: [3, 2], strides: 2, padding: 'same' }), theirs: () => tfl.layers.separableConv2d({ filters: 4, kernelSize: [3, 2], strides: 2, padding: 'same' }), shape: [2, 7, 6, 3] },
  { name: 'DepthwiseConv2D', ours: () => L.DepthwiseConv2D({ kernel_size: 3, depth_multiplier: 3 }), theirs: () => tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 3 }), shape: [2, 5, 6, 2] },
  { name: 'DepthwiseConv2D same strided', ours: () => L.DepthwiseConv2D({ kernel_size: 3, strides: 2, padding: 'same' }), theirs: () => tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }), shape: [2, 7, 6, 3] },
  { name: 'Conv2DTranspose valid', ours: () => L.Conv2DTranspose({ filters: 3, kernel_size: 3, strides: 2 }), theirs: () => tfl.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2 }), shape: [2, 4, 3, 2] },
  { name: 'Conv2DTranspose same', ours: () => L.Conv2DTranspose({ filters: 2, kernel_size: [3, 2], strides: [2, 3], padding: 'same' }), theirs: () => tfl.layers.conv2dTranspose({ filters: 2, kernelSize: [3, 2], strides: [2, 3], padding: 'same' }), shape: [2, 3, 4, 3] },
  { name: 'Conv3DTranspose valid', ours: () => L.Conv3DTranspose({ filters: 2, kernel_size: [2, 3, 2], strides: [1, 2, 2] }), theirs: () => tfl.layers.conv3dTranspose({ filters: 2, kernelSize: [2, 3, 2], strides: [1, 2, 2] }), shape: [1, 3, 3, 2, 2] },
  { name: 'Conv3DTranspose same', ours: () => L.Conv3DTranspose({ filters: 3, kernel_size: 3, strides: 2, padding: 'same' }), theirs: () => tfl.layers.conv3dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }), shape: [1, 2, 3, 2, 2] },
  { name: 'Cropping2D', ours: () => L.Cropping2D({ cropping: [[1, 0], [2, 1]] }), theirs: () => tfl.layers.cropping2D({ cropping: [[1, 0], [2, 1]] }), shape: [2, 4, 6, 3] },
  { name: 'UpSampling2D nearest', ours: () => L.UpSampling2D({ size: [2, 3] }), theirs: () => tfl.layers.upSampling2d({ size: [2, 3] }), shape: [2, 3, 4, 2] },
  { name: 'ZeroPadding2D', ours: () => L.ZeroPadding2D({ padding: [[1, 2], [0, 3]] }), theirs: () => tfl.layers.zeroPadding2d({ padding: [[1, 2], [0, 3]] }), shape: [2, 3, 4, 2] },
  { name: 'ZeroPadding2D channels_first', ours: () => L.ZeroPadding2D({ padding: 2, data_format: 'channels_first' }), theirs: () => tfl.layers.zeroPadding2d({ padding: 2, dataFormat: 'channelsFirst' }), shape: [2, 3, 4, 2] },
  { name: 'MaxPooling1D', ours: () => L.MaxPooling1D({ pool_size: 3, strides: 2 }), theirs: () => tfl.layers.maxPooling1d({ poolSize: 3, strides: 2 }), shape: [2, 9, 3] },
  { name: 'AveragePooling1D same', ours: () => L.AveragePooling1D({ pool_size: 3, strides: 2, padding: 'same' }), theirs: () => tfl.layers.averagePooling1d({ poolSize: 3, strides: 2, padding: 'same' }), shape: [2, 8, 3] },
  { name: 'MaxPooling3D', ours: () => L.MaxPooling3D({ pool_size: [2, 2, 3], strides: [2, 1, 2] }), theirs: () => tfl.layers.maxPooling3d({ poolSize: [2, 2, 3], strides: [2, 1, 2] }), shape: [2, 4, 3, 7, 2] },
  { name: 'AveragePooling3D', ours: () => L.AveragePooling3D({}), theirs: () => tfl.layers.averagePooling3d({ poolSize: 2 }), shape: [2, 4, 5, 4, 3] },
  { name: 'GlobalAveragePooling1D', ours: () => L.GlobalAveragePooling1D(), theirs: () => tfl.layers.globalAveragePooling1d(), shape: [3, 5, 4] },
  { name: 'GlobalMaxPooling1D', ours: () => L.GlobalMaxPooling1D(), theirs: () => tfl.layers.globalMaxPooling1d(), shape: [3, 5, 4] },
  { name: 'RepeatVector', ours: () => L.RepeatVector({ n: 4 }), theirs: () => tfl.layers.repeatVector({ n: 4 }), shape: [3, 5] },
  { name: 'Permute', ours: () => L.Permute({ dims: [3, 1, 2] }), theirs: () => tfl.layers.permute({ dims: [3, 1, 2] }), shape: [2, 3, 4, 5] },
];

function randomize(w: Record<string, tf.Tensor>, seed: number): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(w).map(([k, v], i) => {
      const r = tf.randomUniform(v.shape, -0.8, 0.8, 'float32', seed + i);
      v.dispose();
      return [k, r];
    }),
  );
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: forward passes match tfjs-layers with the same weights`, (t) =>
    onBackend(backend, () => {
      let worst = 0;
      for (const c of diffCases) {
        const before = tf.memory().numTensors;
        const x = tf.randomNormal(c.shape, 0, 1, 'float32', 1);
        const ours = c.ours();
        const params = randomize(ours.init(makeKey(2), [null, ...c.shape.slice(1)]).params, 10);
        const theirs = c.theirs();
        theirs.build(c.shape);
        assert.equal(theirs.weights.length, Object.keys(params).length, `${c.name}: weight count vs tfjs-layers`);
        theirs.setWeights(Object.values(params));
        const y = ours.apply(params, {}, x, { training: false }).outputs as tf.Tensor;
        const ref = tf.tidy(() => theirs.apply(x) as tf.Tensor);
        assert.deepEqual(y.shape, ref.shape, `${backend} ${c.name}: shape`);
        const a = y.dataSync();
        const e = ref.dataSync();
        let scale = 0;
        for (const v of e) scale = Math.max(scale, Math.abs(v));
        let err = 0;
        for (let i = 0; i < e.length; i++) err = Math.max(err, Math.abs(a[i] - e[i]) / Math.max(scale, 1e-30));
        assert.ok(err <= RTOL, `${backend} ${c.name}: max relative error ${err.toExponential(2)}`);
        worst = Math.max(worst, err);
        tf.dispose([x, y, ref, ...Object.values(params)]);
        tf.dispose(theirs.weights.map((w) => (w as unknown as { read(): tf.Variable }).read()));
        assert.equal(tf.memory().numTensors, before, `${backend} ${c.name}: tensors leaked`);
      }
      t.diagnostic(`${diffCases.length} cases, max relative error ${worst.toExponential(2)}`);
    }));
}
