/**
 * Convolution, pooling and reshaping layers that tfjs-layers lacks (or runs
 * differently from Keras 2: bilinear up-sampling, output_padding, causal
 * separable convolutions, channels_first variants, LocallyConnected) against
 * an independent float64 numpy computation (conv-numpy-reference.ts), on the
 * wasm and the cpu backends. Tolerance: 1e-5 relative to the reference's
 * largest magnitude.
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { makeKey } from '../../src/core/rng.js';
import * as L from '../../src/layers/index.js';
import type { Layer } from '../../src/layers/layer.js';
import { needsPython } from '../helpers/python.js';
import { numpyReference, type Flat, type NumpyCase } from './conv-numpy-reference.js';

const RTOL = 1e-5;

interface Case {
  name: string;
  layer: () => Layer;
  shape: number[];
  op: string;
  /** Extra reference config beyond the layer's own config. */
  cfg?: (layer: Layer, x: tf.Tensor) => Record<string, unknown>;
  mask?: number[][];
}

const flat = (t: tf.Tensor): Flat => ({ data: Array.from(t.dataSync()), shape: t.shape });

const cases: Case[] = [
  { name: 'Conv1D causal dilated', layer: () => L.Conv1D({ filters: 3, kernel_size: 3, padding: 'causal', dilation_rate: 2 }), shape: [2, 9, 2], op: 'conv' },
  { name: 'Conv1D channels_first grouped strided same', layer: () => L.Conv1D({ filters: 4, kernel_size: 3, strides: 2, padding: 'same', groups: 2, data_format: 'channels_first' }), shape: [2, 4, 9], op: 'conv' },
  { name: 'Conv3D dilated channels_first', layer: () => L.Conv3D({ filters: 2, kernel_size: [2, 3, 2], dilation_rate: [2, 1, 2], data_format: 'channels_first' }), shape: [2, 3, 5, 5, 6], op: 'conv' },
  { name: 'Conv3D strided same', layer: () => L.Conv3D({ filters: 3, kernel_size: 3, strides: [2, 1, 2], padding: 'same' }), shape: [1, 5, 4, 6, 2], op: 'conv' },
  { name: 'Conv3D grouped', layer: () => L.Conv3D({ filters: 4, kernel_size: 2, groups: 2 }), shape: [1, 3, 4, 3, 4], op: 'conv' },
  { name: 'DepthwiseConv2D channels_first multiplier 3 dilated same', layer: () => L.DepthwiseConv2D({ kernel_size: [3, 2], depth_multiplier: 3, dilation_rate: 2, padding: 'same', data_format: 'channels_first' }), shape: [2, 2, 6, 7], op: 'depthwise' },
  { name: 'SeparableConv1D causal multiplier 2', layer: () => L.SeparableConv1D({ filters: 3, kernel_size: 3, padding: 'causal', depth_multiplier: 2, dilation_rate: 2 }), shape: [2, 8, 2], op: 'separable' },
  { name: 'SeparableConv1D strided channels_first', layer: () => L.SeparableConv1D({ filters: 2, kernel_size: 2, strides: 2, data_format: 'channels_first' }), shape: [2, 3, 9], op: 'separable' },
  { name: 'SeparableConv2D dilated channels_first', layer: () => L.SeparableConv2D({ filters: 3, kernel_size: 2, dilation_rate: 2, depth_multiplier: 2, data_format: 'channels_first' }), shape: [2, 2, 6, 5], op: 'separable' },
  ...(['valid', 'same'] as const).flatMap((padding) => [
    { name: `Conv2DTranspose output_padding ${padding}`, layer: () => L.Conv2DTranspose({ filters: 3, kernel_size: [3, 2], strides: [2, 3], output_padding: [1, 2], padding }), shape: [2, 3, 4, 2], op: 'conv_transpose' },
    { name: `Conv2DTranspose dilated channels_first ${padding}`, layer: () => L.Conv2DTranspose({ filters: 2, kernel_size: 3, dilation_rate: 2, padding, data_format: 'channels_first' }), shape: [2, 3, 5, 4], op: 'conv_transpose' },
    { name: `Conv3DTranspose strided ${padding}`, layer: () => L.Conv3DTranspose({ filters: 2, kernel_size: [2, 3, 3], strides: [1, 2, 2], padding }), shape: [1, 3, 2, 3, 2], op: 'conv_transpose' },
    { name: `Conv3DTranspose output_padding channels_first ${padding}`, layer: () => L.Conv3DTranspose({ filters: 3, kernel_size: 3, strides: 2, output_padding: [1, 0, 1], padding, data_format: 'channels_first' }), shape: [1, 2, 2, 3, 2], op: 'conv_transpose' },
  ]),
  { name: 'LocallyConnected1D strided', layer: () => L.LocallyConnected1D({ filters: 3, kernel_size: 3, strides: 2 }), shape: [2, 9, 2], op: 'local' },
  { name: 'LocallyConnected1D channels_first', layer: () => L.LocallyConnected1D({ filters: 2, kernel_size: 2, data_format: 'channels_first' }), shape: [2, 3, 5], op: 'local' },
  { name: 'LocallyConnected2D', layer: () => L.LocallyConnected2D({ filters: 3, kernel_size: [2, 3], strides: [1, 2] }), shape: [2, 4, 7, 2], op: 'local' },
  { name: 'LocallyConnected2D channels_first', layer: () => L.LocallyConnected2D({ filters: 2, kernel_size: 2, strides: 2, data_format: 'channels_first' }), shape: [2, 3, 5, 4], op: 'local' },
  { name: 'Cropping1D', layer: () => L.Cropping1D({ cropping: [2, 1] }), shape: [2, 7, 3], op: 'crop' },
  { name: 'Cropping2D channels_first', layer: () => L.Cropping2D({ cropping: [[1, 0], [2, 1]], data_format: 'channels_first' }), shape: [2, 3, 5, 6], op: 'crop' },
  { name: 'Cropping3D', layer: () => L.Cropping3D({ cropping: [[1, 1], [0, 2], [1, 0]] }), shape: [1, 4, 5, 3, 2], op: 'crop' },
  { name: 'Cropping3D channels_first default', layer: () => L.Cropping3D({ data_format: 'channels_first' }), shape: [1, 2, 4, 3, 5], op: 'crop' },
  { name: 'ZeroPadding1D', layer: () => L.ZeroPadding1D({ padding: [1, 3] }), shape: [2, 4, 3], op: 'pad' },
  { name: 'ZeroPadding3D channels_first', layer: () => L.ZeroPadding3D({ padding: [[1, 0], [0, 2], [2, 1]], data_format: 'channels_first' }), shape: [1, 2, 2, 3, 2], op: 'pad' },
  { name: 'UpSampling1D', layer: () => L.UpSampling1D({ size: 3 }), shape: [2, 4, 3], op: 'upsample' },
  { name: 'UpSampling2D nearest channels_first', layer: () => L.UpSampling2D({ size: [2, 3], data_format: 'channels_first' }), shape: [2, 3, 2, 3], op: 'upsample' },
  { name: 'UpSampling3D', layer: () => L.UpSampling3D({ size: [1, 2, 3] }), shape: [1, 2, 3, 2, 2], op: 'upsample' },
  { name: 'UpSampling2D bilinear', layer: () => L.UpSampling2D({ size: [2, 3], interpolation: 'bilinear' }), shape: [2, 4, 3, 2], op: 'bilinear' },
  { name: 'UpSampling2D bilinear channels_first', layer: () => L.UpSampling2D({ size: 4, interpolation: 'bilinear', data_format: 'channels_first' }), shape: [1, 2, 3, 5], op: 'bilinear' },
  { name: 'AveragePooling3D same', layer: () => L.AveragePooling3D({ pool_size: 3, strides: 2, padding: 'same' }), shape: [1, 5, 4, 6, 2], op: 'pool' },
  { name: 'MaxPooling3D same channels_first', layer: () => L.MaxPooling3D({ pool_size: [2, 3, 2], strides: [1, 2, 2], padding: 'same', data_format: 'channels_first' }), shape: [1, 2, 4, 5, 5], op: 'pool' },
  { name: 'AveragePooling1D same channels_first', layer: () => L.AveragePooling1D({ pool_size: 3, strides: 2, padding: 'same', data_format: 'channels_first' }), shape: [2, 3, 8], op: 'pool' },
  { name: 'GlobalAveragePooling3D channels_first', layer: () => L.GlobalAveragePooling3D({ data_format: 'channels_first' }), shape: [2, 3, 2, 3, 4], op: 'gpool' },
  { name: 'GlobalMaxPooling3D', layer: () => L.GlobalMaxPooling3D({}), shape: [2, 2, 3, 4, 3], op: 'gpool' },
  { name: 'GlobalAveragePooling1D with a mask', layer: () => L.GlobalAveragePooling1D({}), shape: [3, 4, 2], op: 'masked_mean', mask: [[1, 1, 0, 0], [1, 1, 1, 1], [0, 1, 0, 1]] },
];

function referenceConfig(c: Case, layer: Layer, y: tf.Tensor): Record<string, unknown> {
  const cfg = { ...(layer.getConfig() as Record<string, unknown>) };
  const className = layer.className;
  if (className.startsWith('MaxPooling') || className.startsWith('GlobalMax')) cfg.kind = 'max';
  else if (className.startsWith('AveragePooling') || className.startsWith('GlobalAverage')) cfg.kind = 'avg';
  if (c.op === 'conv_transpose') {
    const cf = cfg.data_format === 'channels_first';
    cfg.out_sizes = cf ? y.shape.slice(2) : y.shape.slice(1, -1);
    // Conv3DTranspose ignores dilation_rate as tf.keras 2 does.
    if (className === 'Conv3DTranspose') cfg.dilation_rate = [1, 1, 1];
  }
  if (c.op === 'upsample' && typeof cfg.size === 'number') cfg.size = [cfg.size];
  if (c.op === 'crop' && className === 'Cropping1D') cfg.cropping = [cfg.cropping];
  if (c.op === 'pad' && className === 'ZeroPadding1D') cfg.padding = [cfg.padding];
  if (c.mask) cfg.mask = c.mask;
  return cfg;
}

function randomParams(params: Record<string, tf.Tensor>, seed: number): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(params).map(([k, v], i) => {
      const r = tf.randomUniform(v.shape, -0.8, 0.8, 'float32', seed + i);
      v.dispose();
      return [k, r];
    }),
  );
}

function close(actual: tf.Tensor, expected: Flat, what: string): number {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  let scale = 0;
  for (const e of expected.data) scale = Math.max(scale, Math.abs(e));
  let worst = 0;
  expected.data.forEach((e, i) => (worst = Math.max(worst, Math.abs(a[i] - e) / Math.max(scale, 1e-30))));
  assert.ok(worst <= RTOL, `${what}: max relative error ${worst.toExponential(2)} > ${RTOL}`);
  return worst;
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: convolution, pooling and reshaping layers match numpy (float64)`, { skip: needsPython('numpy') }, async (t) => {
    await onBackend(backend, () => {
      const before = tf.memory().numTensors;
      const inputs: NumpyCase[] = [];
      const outputs: tf.Tensor[] = [];
      const owned: tf.Tensor[] = [];
      for (const c of cases) {
        const layer = c.layer();
        const init = layer.init(makeKey(1), [null, ...c.shape.slice(1)]);
        const params = randomParams(init.params, 100);
        const x = tf.randomNormal(c.shape, 0, 1, 'float32', 5);
        const mask = c.mask ? tf.tensor2d(c.mask, undefined, 'bool') : null;
        const y = layer.apply(params, {}, x, { training: false, mask }).outputs as tf.Tensor;
        assert.deepEqual(y.shape, (layer.computeOutputShape(x.shape) as number[]), `${c.name}: computeOutputShape`);
        inputs.push({
          op: c.op,
          cfg: referenceConfig(c, layer, y),
          x: flat(x),
          params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, flat(v)])),
        });
        outputs.push(y);
        owned.push(x, y, ...Object.values(params), ...(mask ? [mask] : []));
      }
      const refs = numpyReference(inputs);
      let worst = 0;
      cases.forEach((c, i) => (worst = Math.max(worst, close(outputs[i], refs[i], `${backend} ${c.name}`))));
      t.diagnostic(`${cases.length} cases, max relative error ${worst.toExponential(2)}`);
      tf.dispose(owned);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    });
  });
}
