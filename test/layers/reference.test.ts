/**
 * Layers checked against independent float64 re-computations in plain
 * JavaScript, where tfjs-layers is no reference (dilated or grouped Conv2D
 * gradients, BatchNormalization with other axes / without center or scale and
 * its moving statistics, Softmax on another axis, ReLU with threshold and
 * slope, ELU with alpha != 1, ThresholdedReLU gradients), and behaviour
 * tests (Dropout, Embedding masks, errors). Tolerance: 1e-5 relative to the
 * reference tensor's largest magnitude.
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { makeKey } from '../../src/core/rng.js';
import { ConfigDecodeError, InvalidArgumentError, ShapeMismatchError } from '../../src/core/errors.js';
import { convOutputLength } from '../../src/layers/common.js';
import * as L from '../../src/layers/index.js';
import type { Layer, Weights } from '../../src/layers/layer.js';

const RTOL = 1e-5;

function close(actual: tf.Tensor | ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = RTOL): void {
  const a = actual instanceof tf.Tensor ? actual.dataSync() : actual;
  assert.equal(a.length, expected.length, `${what}: size`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(a[i] - expected[i]) / Math.max(scale, 1e-30);
    assert.ok(err <= rtol, `${what}: element ${i}: ${a[i]} vs ${expected[i]} (relative ${err.toExponential(2)})`);
  }
}

const f64 = (t: tf.Tensor) => Float64Array.from(t.dataSync());

/** A float64 Conv2D (NHWC, TF's padding rule) and the gradients of sum(y * r). */
function conv2dRef(
  x: Float64Array, xs: number[], k: Float64Array, ks: number[], bias: Float64Array | null,
  strides: number[], padding: 'valid' | 'same', dil: number[], groups: number, r?: Float64Array,
) {
  const [N, H, W, C] = xs;
  const [KH, KW, CG, F] = ks;
  const OH = convOutputLength(H, KH, padding, strides[0], dil[0]) as number;
  const OW = convOutputLength(W, KW, padding, strides[1], dil[1]) as number;
  const pad = (n: number, o: number, k: number, s: number, d: number) =>
    padding === 'same' ? Math.floor(Math.max((o - 1) * s + (k - 1) * d + 1 - n, 0) / 2) : 0;
  const top = pad(H, OH, KH, strides[0], dil[0]);
  const left = pad(W, OW, KW, strides[1], dil[1]);
  const y = new Float64Array(N * OH * OW * F);
  const dx = new Float64Array(x.length);
  const dk = new Float64Array(k.length);
  const db = new Float64Array(F);
  const fPerGroup = F / groups;
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let f = 0; f < F; f++) {
          const yi = ((n * OH + oh) * OW + ow) * F + f;
          const g = Math.floor(f / fPerGroup);
          let acc = bias ? bias[f] : 0;
          const rv = r ? r[yi] : 0;
          for (let i = 0; i < KH; i++) {
            const h = oh * strides[0] - top + i * dil[0];
            if (h < 0 || h >= H) continue;
            for (let j = 0; j < KW; j++) {
              const w = ow * strides[1] - left + j * dil[1];
              if (w < 0 || w >= W) continue;
              for (let c = 0; c < CG; c++) {
                const xi = ((n * H + h) * W + w) * C + g * CG + c;
                const ki = ((i * KW + j) * CG + c) * F + f;
                acc += x[xi] * k[ki];
                dx[xi] += rv * k[ki];
                dk[ki] += rv * x[xi];
              }
            }
          }
          y[yi] = acc;
          db[f] += rv;
        }
  return { y, shape: [N, OH, OW, F], dx, dk, db };
}

describe('Conv2D against a float64 convolution', () => {
  const cases: { name: string; args: Record<string, unknown>; shape: number[] }[] = [
    { name: 'dilated valid', args: { filters: 3, kernel_size: 3, dilation_rate: 2 }, shape: [2, 8, 9, 2] },
    { name: 'dilated same, even effective kernel', args: { filters: 2, kernel_size: [2, 3], dilation_rate: [3, 2], padding: 'same' }, shape: [1, 7, 6, 3] },
    { name: 'grouped', args: { filters: 4, kernel_size: 2, groups: 2 }, shape: [2, 5, 5, 4] },
    { name: 'strided same', args: { filters: 3, kernel_size: 3, strides: 2, padding: 'same' }, shape: [2, 6, 7, 2] },
    { name: 'channels_first grouped dilated', args: { filters: 2, kernel_size: 2, groups: 2, dilation_rate: 2, data_format: 'channels_first' }, shape: [2, 4, 6, 5] },
  ];
  for (const backend of ['wasm', 'cpu'] as const)
    for (const c of cases)
      test(`${backend}: ${c.name}`, () =>
        onBackend(backend, () => {
          const before = tf.memory().numTensors;
          const layer = L.Conv2D(c.args as never);
          const cf = c.args.data_format === 'channels_first';
          const { params } = layer.init(makeKey(1), [null, ...c.shape.slice(1)]);
          const bias = tf.randomUniform(params.bias.shape, -1, 1, 'float32', 9);
          params.bias.dispose();
          params.bias = bias;
          const x = tf.randomNormal(c.shape, 0, 1, 'float32', 2);
          const xNhwc = cf ? tf.transpose(x, [0, 2, 3, 1]) : x;
          const cfg = layer.getConfig() as unknown as { strides: number[]; padding: 'valid' | 'same'; dilation_rate: number[]; groups: number };
          const y = layer.apply(params, {}, x, { training: false }).outputs as tf.Tensor;
          const yNhwc = cf ? tf.transpose(y, [0, 2, 3, 1]) : y;
          const r = tf.randomNormal(yNhwc.shape, 0, 1, 'float32', 3);
          const ref = conv2dRef(f64(xNhwc), xNhwc.shape, f64(params.kernel), params.kernel.shape, f64(bias), cfg.strides, cfg.padding, cfg.dilation_rate, cfg.groups, f64(r));
          assert.deepEqual(yNhwc.shape, ref.shape);
          close(yNhwc, ref.y, 'forward');
          const rOut = cf ? tf.transpose(r, [0, 3, 1, 2]) : r;
          const grads = tf.grads((xi: tf.Tensor, k: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.mul(layer.apply({ kernel: k, bias: b }, {}, xi, { training: false }).outputs as tf.Tensor, rOut)),
          )([x, params.kernel, bias]);
          const gx = cf ? tf.transpose(grads[0], [0, 2, 3, 1]) : grads[0];
          close(gx, ref.dx, 'd/dx');
          close(grads[1], ref.dk, 'd/dkernel');
          close(grads[2], ref.db, 'd/dbias');
          tf.dispose([rOut, gx, ...grads]);
          tf.dispose([x, xNhwc, y, yNhwc, r, params.kernel, bias]);
          assert.equal(tf.memory().numTensors, before, 'tensors leaked');
        }),
      );
});

/** float64 batch normalisation over all axes but `axes`; returns output and the batch mean / variances. */
function batchNormRef(x: Float64Array, shape: number[], axes: number[], gamma: Float64Array | null, beta: Float64Array | null, eps: number) {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const paramIndex = (flat: number) => {
    let idx = 0;
    for (const a of axes) idx = idx * shape[a] + (Math.floor(flat / strides[a]) % shape[a]);
    return idx;
  };
  const P = axes.reduce((n, a) => n * shape[a], 1);
  const count = x.length / P;
  const mean = new Float64Array(P);
  const biased = new Float64Array(P);
  for (let i = 0; i < x.length; i++) mean[paramIndex(i)] += x[i] / count;
  for (let i = 0; i < x.length; i++) biased[paramIndex(i)] += (x[i] - mean[paramIndex(i)]) ** 2 / count;
  const unbiased = biased.map((v) => (v * count) / (count - 1));
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const p = paramIndex(i);
    y[i] = ((x[i] - mean[p]) / Math.sqrt(biased[p] + eps)) * (gamma ? gamma[p] : 1) + (beta ? beta[p] : 0);
  }
  return { y, mean, biased, unbiased, normalize: (m: Float64Array, v: Float64Array) => x.map((xi, i) => ((xi - m[paramIndex(i)]) / Math.sqrt(v[paramIndex(i)] + eps)) * (gamma ? gamma[paramIndex(i)] : 1) + (beta ? beta[paramIndex(i)] : 0)) };
}

describe('BatchNormalization against float64', () => {
  const cases: { name: string; args: Record<string, unknown>; shape: number[]; axes: number[]; fused: boolean }[] = [
    { name: 'rank 4 channels last (fused: unbiased moving variance)', args: {}, shape: [3, 4, 2, 5], axes: [3], fused: true },
    { name: 'rank 4 axis 1 (fused), no center', args: { axis: 1, center: false, momentum: 0.9 }, shape: [3, 4, 2, 5], axes: [1], fused: true },
    { name: 'rank 2 (biased moving variance), no scale', args: { scale: false, epsilon: 0.1 }, shape: [6, 3], axes: [1], fused: false },
    { name: 'rank 3 axis 1', args: { axis: 1, momentum: 0.5 }, shape: [5, 3, 4], axes: [1], fused: false },
    { name: 'rank 4 axis 2 (not fusable)', args: { axis: -2 }, shape: [2, 3, 4, 2], axes: [2], fused: false },
    { name: 'two axes', args: { axis: [1, 2], center: false, scale: false }, shape: [4, 2, 3], axes: [1, 2], fused: false },
  ];
  for (const backend of ['wasm', 'cpu'] as const)
    for (const c of cases)
      test(`${backend}: ${c.name}`, () =>
        onBackend(backend, () => {
          const before = tf.memory().numTensors;
          const layer = L.BatchNormalization(c.args);
          const cfg = layer.getConfig() as unknown as { momentum: number; epsilon: number; center: boolean; scale: boolean };
          const init = layer.init(makeKey(1), [null, ...c.shape.slice(1)]);
          const shape = init.state.moving_mean.shape;
          const params: Weights = {};
          if (cfg.scale) params.gamma = tf.randomUniform(shape, 0.5, 2, 'float32', 3);
          if (cfg.center) params.beta = tf.randomUniform(shape, -1, 1, 'float32', 4);
          const state: Weights = { moving_mean: tf.randomUniform(shape, -1, 1, 'float32', 5), moving_variance: tf.randomUniform(shape, 0.5, 1.5, 'float32', 6) };
          tf.dispose([...Object.values(init.params), ...Object.values(init.state)]);
          const x = tf.randomNormal(c.shape, 0.5, 2, 'float32', 7);
          const ref = batchNormRef(f64(x), c.shape, c.axes, params.gamma ? f64(params.gamma) : null, params.beta ? f64(params.beta) : null, cfg.epsilon);

          const train = layer.apply(params, state, x, { training: true });
          close(train.outputs as tf.Tensor, ref.y, 'training output');
          const m = cfg.momentum;
          const mm = f64(state.moving_mean).map((v, i) => v * m + ref.mean[i] * (1 - m));
          const batchVar = c.fused ? ref.unbiased : ref.biased;
          const mv = f64(state.moving_variance).map((v, i) => v * m + batchVar[i] * (1 - m));
          close(train.state.moving_mean, mm, 'moving_mean');
          close(train.state.moving_variance, mv, `moving_variance (${c.fused ? 'unbiased' : 'biased'} batch variance)`);
          assert.notEqual(train.state, state, 'training returns new state');

          const infer = layer.apply(params, state, x, { training: false });
          assert.equal(infer.state, state, 'inference returns the state unchanged');
          close(infer.outputs as tf.Tensor, ref.normalize(f64(state.moving_mean), f64(state.moving_variance)), 'inference output');
          const frozen = layer.apply(params, state, x, { training: true, frozen: true });
          assert.equal(frozen.state, state, 'frozen: no moving-average update');
          close(frozen.outputs as tf.Tensor, ref.normalize(f64(state.moving_mean), f64(state.moving_variance)), 'frozen output');
          assert.equal(layer.inferenceWhenFrozen, true);

          tf.dispose([x, train.outputs as tf.Tensor, infer.outputs as tf.Tensor, frozen.outputs as tf.Tensor, ...Object.values(train.state), ...Object.values(params), ...Object.values(state)]);
          assert.equal(tf.memory().numTensors, before, 'tensors leaked');
        }),
      );
});

/** Forward and d/dx of sum(y * r) of a parameter-free layer against float64 functions. */
function elementwise(name: string, layer: () => Layer, f: (x: number) => number, df: (x: number) => number) {
  for (const backend of ['wasm', 'cpu'] as const)
    test(`${backend}: ${name} forward and gradient vs float64`, () =>
      onBackend(backend, () => {
        const l = layer();
        // Keep inputs away from the kinks, where the derivative is a convention.
        const x = tf.tidy(() => tf.mul(tf.randomUniform([4, 25], -3, 3, 'float32', 1), 1));
        const xs = f64(x).map((v) => (Math.abs(v) < 1e-3 ? v + 0.01 : v));
        const xt = tf.tensor(Float32Array.from(xs), x.shape);
        const r = tf.randomNormal(x.shape, 0, 1, 'float32', 2);
        const y = l.apply({}, {}, xt, { training: false }).outputs as tf.Tensor;
        const ref = f64(xt).map(f);
        close(y, ref, 'forward');
        const [g] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(l.apply({}, {}, a, { training: false }).outputs as tf.Tensor, r)))([xt]);
        const rs = f64(r);
        close(g, f64(xt).map((v, i) => df(v) * rs[i]), 'd/dx');
        tf.dispose([x, xt, r, y, g]);
      }),
    );
}

describe('advanced activations against float64', () => {
  // Keras backend.relu(x, alpha=0.1, max_value=1.5, threshold=0.5)
  elementwise('ReLU(max_value 1.5, negative_slope 0.1, threshold 0.5)', () => L.ReLU({ max_value: 1.5, negative_slope: 0.1, threshold: 0.5 }),
    (x) => (x > 0.5 ? Math.min(x, 1.5) : 0) - 0.1 * Math.max(0.5 - x, 0),
    (x) => (x > 0.5 ? (x < 1.5 ? 1 : 0) : 0.1));
  elementwise('ReLU(negative_slope 0.2, threshold 0.4)', () => L.ReLU({ negative_slope: 0.2, threshold: 0.4 }),
    (x) => (x > 0.4 ? x : 0.2 * (x - 0.4)), (x) => (x > 0.4 ? 1 : 0.2));
  elementwise('ReLU(max_value 6, negative_slope 0.3)', () => L.ReLU({ max_value: 6, negative_slope: 0.3 }),
    (x) => Math.min(Math.max(x, 0), 6) + 0.3 * Math.min(x, 0), (x) => (x > 0 ? 1 : 0.3));
  elementwise('ELU(alpha 0.4)', () => L.ELU({ alpha: 0.4 }), (x) => (x > 0 ? x : 0.4 * Math.expm1(x)), (x) => (x > 0 ? 1 : 0.4 * Math.exp(x)));
  elementwise('ThresholdedReLU(theta 0.7)', () => L.ThresholdedReLU({ theta: 0.7 }), (x) => (x > 0.7 ? x : 0), (x) => (x > 0.7 ? 1 : 0));
  elementwise('LeakyReLU(alpha 0)', () => L.LeakyReLU({ alpha: 0 }), (x) => Math.max(x, 0), (x) => (x > 0 ? 1 : 0));

  for (const backend of ['wasm', 'cpu'] as const)
    test(`${backend}: Softmax over axis 1 and over [1, 2], with a mask`, () =>
      onBackend(backend, () => {
        const x = tf.randomNormal([2, 3, 4], 0, 2, 'float32', 1);
        const xs = f64(x);
        const at = (n: number, i: number, j: number) => xs[(n * 3 + i) * 4 + j];
        const ref1 = new Float64Array(24);
        const ref12 = new Float64Array(24);
        for (let n = 0; n < 2; n++) {
          let total = 0;
          for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) total += Math.exp(at(n, i, j));
          for (let j = 0; j < 4; j++) {
            let s = 0;
            for (let i = 0; i < 3; i++) s += Math.exp(at(n, i, j));
            for (let i = 0; i < 3; i++) {
              ref1[(n * 3 + i) * 4 + j] = Math.exp(at(n, i, j)) / s;
              ref12[(n * 3 + i) * 4 + j] = Math.exp(at(n, i, j)) / total;
            }
          }
        }
        const y1 = L.Softmax({ axis: 1 }).apply({}, {}, x, { training: false }).outputs as tf.Tensor;
        const y12 = L.Softmax({ axis: [1, 2] }).apply({}, {}, x, { training: false }).outputs as tf.Tensor;
        close(y1, ref1, 'axis 1');
        close(y12, ref12, 'axes [1, 2]');
        // Masked positions (mask 0) get ~0 probability; the rest renormalise.
        const mask = tf.tensor2d([[1, 1, 0, 0], [1, 0, 1, 1]]);
        const x2 = tf.tensor2d([[1, 2, 3, 4], [0.5, 9, -1, 2]]);
        const ym = L.Softmax().apply({}, {}, x2, { training: false, mask }).outputs as tf.Tensor;
        const e = [[Math.exp(1), Math.exp(2), 0, 0], [Math.exp(0.5), 0, Math.exp(-1), Math.exp(2)]];
        close(ym, e.flatMap((row) => row.map((v) => v / row.reduce((a, b) => a + b, 0))), 'masked');
        tf.dispose([x, y1, y12, mask, x2, ym]);
      }),
    );
});

describe('Dropout', () => {
  const x = () => tf.ones([200, 50]);
  test('inference is the identity; training keeps ~1-rate of the elements, scaled by 1/(1-rate)', () => {
    const layer = L.Dropout({ rate: 0.25 });
    const input = x();
    const y = layer.apply({}, {}, input, { training: false }).outputs;
    assert.equal(y, input);
    const yt = layer.apply({}, {}, input, { training: true, key: makeKey(1) }).outputs as tf.Tensor;
    const values = yt.dataSync();
    const kept = values.filter((v) => v !== 0);
    assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6), 'kept values are scaled by 1/(1-rate)');
    const frac = kept.length / values.length;
    // 10,000 Bernoulli(0.75) draws: sd 0.0043; 6 sd.
    assert.ok(Math.abs(frac - 0.75) < 0.026, `kept fraction ${frac}`);
    tf.dispose([input, yt]);
  });
  test('the key decides the mask: same key same mask, other key other mask', () => {
    const layer = L.Dropout({ rate: 0.5 });
    const input = x();
    const a = layer.apply({}, {}, input, { training: true, key: makeKey(5) }).outputs as tf.Tensor;
    const b = layer.apply({}, {}, input, { training: true, key: makeKey(5) }).outputs as tf.Tensor;
    const c = layer.apply({}, {}, input, { training: true, key: makeKey(6) }).outputs as tf.Tensor;
    assert.deepEqual(a.dataSync(), b.dataSync());
    assert.notDeepEqual(a.dataSync(), c.dataSync());
    tf.dispose([input, a, b, c]);
  });
  test('noise_shape shares the draw along axes of size 1 (null takes the input size)', () => {
    const input = tf.ones([4, 30, 6]);
    const y = L.Dropout({ rate: 0.5, noise_shape: [null, 1, null] }).apply({}, {}, input, { training: true, key: makeKey(2) }).outputs as tf.Tensor;
    const arr = y.arraySync() as number[][][];
    for (const sample of arr) for (const row of sample) assert.deepEqual(row, sample[0]);
    assert.ok(arr.flat(2).some((v) => v === 0) && arr.flat(2).some((v) => v === 2));
    tf.dispose([input, y]);
  });
  test('training without a key is an InvalidArgumentError; rate outside [0, 1] a ConfigDecodeError', () => {
    const input = x();
    assert.throws(() => L.Dropout({ rate: 0.5 }).apply({}, {}, input, { training: true }), InvalidArgumentError);
    assert.throws(() => L.Dropout({ rate: 1.5 }), ConfigDecodeError);
    input.dispose();
  });
});

describe('Embedding', () => {
  test('looks up rows (float indices truncated), masks zeros, keeps Keras batch_input_shape', () => {
    const layer = L.Embedding({ input_dim: 5, output_dim: 2, mask_zero: true });
    assert.deepEqual(layer.getConfig().batch_input_shape, [null, null]);
    assert.deepEqual(L.Embedding({ input_dim: 5, output_dim: 2, input_length: 7 }).getConfig().batch_input_shape, [null, 7]);
    const embeddings = tf.tensor2d([[0, 0], [1, 2], [3, 4], [5, 6], [7, 8]]);
    const ids = tf.tensor2d([[1, 0, 4], [3.7, 2, 0]]);
    const y = layer.apply({ embeddings }, {}, ids, { training: false }).outputs as tf.Tensor;
    assert.deepEqual(y.arraySync(), [[[1, 2], [0, 0], [7, 8]], [[5, 6], [3, 4], [0, 0]]]);
    const mask = layer.computeMask!(ids, null) as tf.Tensor;
    assert.equal(mask.dtype, 'bool');
    assert.deepEqual(mask.arraySync(), [[1, 0, 1], [1, 1, 0]]);
    assert.equal(L.Embedding({ input_dim: 5, output_dim: 2 }).computeMask!(ids, null), null);
    tf.dispose([embeddings, ids, y, mask]);
  });
  test('default initializer is uniform(-0.05, 0.05)', () => {
    const layer = L.Embedding({ input_dim: 50, output_dim: 20 });
    assert.deepEqual(layer.getConfig().embeddings_initializer, { class_name: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed: null } });
    const { params } = layer.init(makeKey(1), [null, 3]);
    const v = params.embeddings.dataSync();
    assert.ok(v.every((e) => e >= -0.05 && e <= 0.05) && Math.max(...v) > 0.04);
    params.embeddings.dispose();
  });
  test('gradient w.r.t. embeddings accumulates repeated ids (cpu)', () =>
    onBackend('cpu', () => {
      const layer = L.Embedding({ input_dim: 3, output_dim: 2 });
      const ids = tf.tensor2d([[1, 1, 2]], undefined, 'int32');
      const [g] = tf.grads((e: tf.Tensor) => tf.sum(layer.apply({ embeddings: e }, {}, ids, { training: false }).outputs as tf.Tensor))([tf.zeros([3, 2])]);
      assert.deepEqual(g.arraySync(), [[0, 0], [2, 2], [1, 1]]);
    }));
  test('trains on wasm (UnsortedSegmentSum kernel): gradient equals the cpu one within 1e-5 for int and float ids; loss decreases', async () => {
    const layer = L.Embedding({ input_dim: 30, output_dim: 4 });
    const { params } = layer.init(makeKey(1), [null, 6]);
    const table = Array.from(params.embeddings.dataSync());
    params.embeddings.dispose();
    // Few distinct ids in 8 x 6: many repeats, whose gradients must add up.
    const idValues = Array.from({ length: 48 }, (_, i) => (i * 7) % 11);
    const target = Array.from({ length: 48 * 4 }, (_, i) => Math.sin(i));
    const lossOf = (e: tf.Tensor, ids: tf.Tensor) =>
      tf.mean(tf.square(tf.sub(layer.apply({ embeddings: e }, {}, ids, { training: true }).outputs as tf.Tensor, tf.tensor3d(target, [8, 6, 4])))) as tf.Scalar;
    for (const dtype of ['int32', 'float32'] as const) {
      const grad = () =>
        tf.tidy(() => {
          const ids = tf.tensor2d(idValues, [8, 6], dtype);
          const [g] = tf.grads((e: tf.Tensor) => lossOf(e, ids))([tf.tensor2d(table, [30, 4])]);
          return Array.from(g.dataSync());
        });
      const w = grad();
      const c = await onBackend('cpu', grad);
      assert.ok(c.some((v) => v !== 0));
      w.forEach((v, i) => assert.ok(Math.abs(v - c[i]) <= 1e-5, `${dtype} ids, element ${i}: wasm ${v} vs cpu ${c[i]}`));
    }
    assert.equal(tf.getBackend(), 'wasm');
    const before = tf.memory().numTensors;
    const ids = tf.tensor2d(idValues, [8, 6], 'int32');
    let e: tf.Tensor = tf.tensor2d(table, [30, 4]);
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => lossOf(t, ids))([e]);
      losses.push(value.dataSync()[0]);
      const next = tf.tidy(() => tf.sub(e, tf.mul(grads[0], 20)));
      tf.dispose([value, e, ...grads]);
      e = next;
    }
    assert.ok(losses[4] < losses[0] * 0.9, `losses ${losses.join(', ')}`);
    tf.dispose([ids, e]);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });
});

describe('shape errors', () => {
  test('Reshape checks sizes; Conv2D checks rank and channels; pooling checks rank', () => {
    assert.throws(() => L.Reshape({ target_shape: [5] }).computeOutputShape([null, 2, 3]), ShapeMismatchError);
    assert.throws(() => L.Reshape({ target_shape: [-1, -1] }), ConfigDecodeError);
    assert.deepEqual(L.Reshape({ target_shape: [3, -1] }).computeOutputShape([null, null, 2]), [null, 3, null]);
    assert.throws(() => L.Conv2D({ filters: 2, kernel_size: 3 }).computeOutputShape([null, 5, 5]), ShapeMismatchError);
    assert.throws(() => L.Conv2D({ filters: 2, kernel_size: 3, strides: 2, dilation_rate: 2 }), ConfigDecodeError);
    assert.throws(() => L.Conv2D({ filters: 2, kernel_size: 3, padding: 'causal' }), ConfigDecodeError);
    assert.throws(() => L.Conv2D({ filters: 3, kernel_size: 3, groups: 2 }), ConfigDecodeError);
    assert.throws(() => L.Conv2D({ filters: 2, kernel_size: 3, groups: 2 }).init(makeKey(1), [null, 5, 5, 3]), ShapeMismatchError);
    assert.throws(() => L.MaxPooling2D().computeOutputShape([null, 4, 4]), ShapeMismatchError);
    assert.throws(() => L.BatchNormalization({ axis: 3 }).init(makeKey(1), [null, 4, 4]), ConfigDecodeError);
  });
});
