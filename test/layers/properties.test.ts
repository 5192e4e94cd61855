/**
 * fast-check properties: for random Conv2D / pooling / global pooling /
 * Reshape configs and inputs, the actual output shape equals
 * computeOutputShape (and Keras's conv_output_length rule, re-derived here);
 * random configs of every layer survive a JSON round trip through the registry.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import { makeKey } from '../../src/core/rng.js';
import * as L from '../../src/layers/index.js';
import type { Layer, Shape } from '../../src/layers/layer.js';

const RUNS = 25;
const fmt = fc.constantFrom('channels_last', 'channels_first');
const pad = fc.constantFrom('valid', 'same');

/** Keras's rule, written independently of src/layers/common.ts. */
const expectedLength = (n: number, k: number, s: number, d: number, padding: string) =>
  padding === 'same' ? Math.ceil(n / s) : Math.ceil((n - (k - 1) * d) / s);

function runShape(layer: Layer, shape: number[]): { actual: number[]; computed: Shape } {
  const { params, state, outputShape } = layer.init(makeKey(1), [null, ...shape.slice(1)]);
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
  const y = layer.apply(params, state, x, { training: false }).outputs as tf.Tensor;
  const actual = y.shape;
  assert.deepEqual(outputShape, layer.computeOutputShape([null, ...shape.slice(1)]));
  tf.dispose([x, y, ...Object.values(params), ...Object.values(state)]);
  return { actual, computed: layer.computeOutputShape(shape) as Shape };
}

test('Conv2D: actual output shape = computeOutputShape = conv_output_length', () => {
  const before = tf.memory().numTensors;
  fc.assert(
    fc.property(
      fc.record({
        filters: fc.integer({ min: 1, max: 3 }),
        k: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
        s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        d: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        dilate: fc.boolean(),
        padding: pad,
        format: fmt,
        channels: fc.integer({ min: 1, max: 3 }),
        extra: fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })),
      }),
      (c) => {
        const d = c.dilate ? c.d : [1, 1];
        const s = c.dilate ? [1, 1] : c.s;
        const rows = (c.k[0] - 1) * d[0] + 1 + c.extra[0];
        const cols = (c.k[1] - 1) * d[1] + 1 + c.extra[1];
        const layer = L.Conv2D({ filters: c.filters, kernel_size: c.k, strides: s, dilation_rate: d, padding: c.padding, data_format: c.format });
        const shape = c.format === 'channels_last' ? [2, rows, cols, c.channels] : [2, c.channels, rows, cols];
        const { actual, computed } = runShape(layer, shape);
        assert.deepEqual(actual, computed);
        const oh = expectedLength(rows, c.k[0], s[0], d[0], c.padding);
        const ow = expectedLength(cols, c.k[1], s[1], d[1], c.padding);
        assert.deepEqual(actual, c.format === 'channels_last' ? [2, oh, ow, c.filters] : [2, c.filters, oh, ow]);
      },
    ),
    { numRuns: RUNS, seed: 42 },
  );
  assert.equal(tf.memory().numTensors, before);
});

test('MaxPooling2D / AveragePooling2D: actual output shape = computeOutputShape = conv_output_length', () => {
  fc.assert(
    fc.property(
      fc.record({
        max: fc.boolean(),
        p: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        s: fc.option(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))),
        padding: pad,
        format: fmt,
        extra: fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })),
      }),
      (c) => {
        const args = { pool_size: c.p, strides: c.s, padding: c.padding, data_format: c.format };
        const layer = c.max ? L.MaxPooling2D(args) : L.AveragePooling2D(args);
        const rows = c.p[0] + c.extra[0];
        const cols = c.p[1] + c.extra[1];
        const shape = c.format === 'channels_last' ? [2, rows, cols, 3] : [2, 3, rows, cols];
        const { actual, computed } = runShape(layer, shape);
        assert.deepEqual(actual, computed);
        const s = c.s ?? c.p;
        const oh = expectedLength(rows, c.p[0], s[0], 1, c.padding);
        const ow = expectedLength(cols, c.p[1], s[1], 1, c.padding);
        assert.deepEqual(actual, c.format === 'channels_last' ? [2, oh, ow, 3] : [2, 3, oh, ow]);
      },
    ),
    { numRuns: RUNS, seed: 43 },
  );
});

test('global pooling and Reshape: actual output shape = computeOutputShape', () => {
  fc.assert(
    fc.property(fc.boolean(), fc.boolean(), fmt, fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }), (max, keepdims, format, dims) => {
      const layer = max ? L.GlobalMaxPooling2D({ keepdims, data_format: format }) : L.GlobalAveragePooling2D({ keepdims, data_format: format });
      const { actual, computed } = runShape(layer, [2, ...dims]);
      assert.deepEqual(actual, computed);
      const channels = format === 'channels_last' ? dims[2] : dims[0];
      assert.equal(actual.reduce((a, b) => a * b, 1), 2 * channels);
    }),
    { numRuns: RUNS, seed: 44 },
  );
  fc.assert(
    fc.property(fc.shuffledSubarray([2, 3, 2, 5], { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: -1, max: 3 }), (factors, cut, unknown) => {
      const target = [factors.slice(0, cut + 1).reduce((a, b) => a * b, 1), ...factors.slice(cut + 1)];
      const given = target.map((d, i) => (i === unknown ? -1 : d));
      const { actual, computed } = runShape(L.Reshape({ target_shape: given }), [2, 60]);
      assert.deepEqual(actual, computed);
      assert.deepEqual(actual, [2, ...target]);
    }),
    { numRuns: RUNS, seed: 45 },
  );
});

const reg = fc.option(fc.constantFrom('l1', 'l2', { class_name: 'L1L2', config: { l1: 0.01, l2: 0.5 } }), { nil: null });
const init = fc.constantFrom('glorot_uniform', 'he_normal', 'zeros', { class_name: 'RandomNormal', config: { mean: 1, stddev: 2, seed: 3 } });
const constraint = fc.option(fc.constantFrom('non_neg', { class_name: 'MaxNorm', config: { max_value: 2, axis: 0 } }), { nil: null });
const num = fc.double({ min: 0, max: 10, noNaN: true });

const configs: fc.Arbitrary<[string, Record<string, unknown>]> = fc.oneof(
  fc.record({ filters: fc.integer({ min: 1, max: 64 }), kernel_size: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }))),
    strides: fc.integer({ min: 1, max: 3 }), padding: pad, data_format: fmt, activation: fc.constantFrom('relu', 'linear', 'softmax'), use_bias: fc.boolean(),
    kernel_initializer: init, bias_initializer: init, kernel_regularizer: reg, bias_regularizer: reg, activity_regularizer: reg, kernel_constraint: constraint, bias_constraint: constraint,
  }).map((c) => ['Conv2D', c] as [string, Record<string, unknown>]),
  fc.record({ axis: fc.oneof(fc.integer({ min: -3, max: 3 }).filter((a) => a !== 0), fc.constant([1, 2])), momentum: fc.double({ min: 0, max: 1, noNaN: true }), epsilon: fc.double({ min: 1e-6, max: 1, noNaN: true }),
    center: fc.boolean(), scale: fc.boolean(), gamma_initializer: init, beta_regularizer: reg, gamma_constraint: constraint,
  }).map((c) => ['BatchNormalization', c] as [string, Record<string, unknown>]),
  fc.record({ input_dim: fc.integer({ min: 1, max: 1000 }), output_dim: fc.integer({ min: 1, max: 64 }), mask_zero: fc.boolean(), input_length: fc.option(fc.integer({ min: 1, max: 50 }), { nil: null }),
    embeddings_initializer: init, embeddings_regularizer: reg, embeddings_constraint: constraint,
  }).map((c) => ['Embedding', c] as [string, Record<string, unknown>]),
  fc.record({ rate: fc.double({ min: 0, max: 1, noNaN: true }), seed: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null }), noise_shape: fc.option(fc.constant([null, 1, 4]), { nil: null }) })
    .map((c) => ['Dropout', c] as [string, Record<string, unknown>]),
  fc.record({ max_value: fc.option(num, { nil: null }), negative_slope: num, threshold: num }).map((c) => ['ReLU', c] as [string, Record<string, unknown>]),
  fc.record({ alpha: num }).map((c) => ['LeakyReLU', c] as [string, Record<string, unknown>]),
  fc.record({ alpha: num }).map((c) => ['ELU', c] as [string, Record<string, unknown>]),
  fc.record({ theta: num }).map((c) => ['ThresholdedReLU', c] as [string, Record<string, unknown>]),
  fc.record({ axis: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant([1, 2])) }).map((c) => ['Softmax', c] as [string, Record<string, unknown>]),
  fc.record({ shared_axes: fc.option(fc.constantFrom([1], [1, 2]), { nil: null }), alpha_initializer: init, alpha_regularizer: reg, alpha_constraint: constraint })
    .map((c) => ['PReLU', c] as [string, Record<string, unknown>]),
  fc.record({ pool_size: fc.integer({ min: 1, max: 4 }), strides: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }), padding: pad, data_format: fmt })
    .chain((c) => fc.constantFrom('MaxPooling2D', 'AveragePooling2D', 'MaxPool2D').map((n) => [n, c] as [string, Record<string, unknown>])),
  fc.record({ data_format: fmt, keepdims: fc.boolean() }).chain((c) => fc.constantFrom('GlobalAveragePooling2D', 'GlobalMaxPooling2D').map((n) => [n, c] as [string, Record<string, unknown>])),
  fc.record({ data_format: fmt }).map((c) => ['Flatten', c] as [string, Record<string, unknown>]),
  fc.record({ target_shape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }) }).map((c) => ['Reshape', c] as [string, Record<string, unknown>]),
  fc.record({ activation: fc.constantFrom('relu', 'tanh', 'gelu', 'linear') }).map((c) => ['Activation', c] as [string, Record<string, unknown>]),
);

test('random configs of every layer survive JSON -> registry -> getConfig, and keep the given values', () => {
  fc.assert(
    fc.property(configs, fc.boolean(), ([className, args], trainable) => {
      const layer = L.layerFromConfig({ class_name: className, config: args });
      layer.trainable = trainable;
      const config = layer.getConfig();
      assert.equal(config.trainable, trainable);
      const json = JSON.stringify(config);
      const again = L.layerFromConfig({ class_name: layer.className, config: JSON.parse(json) });
      assert.deepEqual(again.getConfig(), JSON.parse(json));
      assert.equal(again.trainable, trainable);
      // Values given as Keras writes them come back unchanged (int shorthands expand to pairs).
      for (const [k, v] of Object.entries(args)) {
        if (v === null || typeof v === 'object' || k === 'kernel_size' || k === 'strides' || k === 'pool_size' || /_(initializer|regularizer|constraint)$/.test(k)) continue;
        assert.deepEqual((config as Record<string, unknown>)[k], v, `${className}.${k}`);
      }
    }),
    { numRuns: 60, seed: 46 },
  );
});
