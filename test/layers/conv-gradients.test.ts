/**
 * Gradients and training of the convolution, pooling and shape layers.
 * - Central finite differences (cpu, float32, eps 1e-2) of L = sum(y * r)
 *   against tf.grads, with respect to the input and every weight, for
 *   layer configs and shapes drawn by fast-check; L is linear in each
 *   argument, so the difference quotient is exact up to rounding: tolerance
 *   2e-2 relative to the largest gradient entry, on 6 sampled coordinates
 *   per tensor.
 * - The same analytic gradients on wasm (with rxkeras's wasm kernels)
 *   against cpu, within 1e-4.
 * - Every layer trains: a few SGD steps on a toy regression (weights and a
 *   learnable input offset fitted to a teacher's outputs) lower the loss on
 *   wasm and on cpu.
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import { makeKey } from '../../src/core/rng.js';
import * as L from '../../src/layers/index.js';
import type { Layer } from '../../src/layers/layer.js';

interface Drawn {
  layer: Layer;
  shape: number[];
}

const fmt = fc.constantFrom('channels_last', 'channels_first');
const pad = fc.constantFrom('valid', 'same');
const small = (min: number, max: number) => fc.integer({ min, max });
const shapeOf = (format: string, spatial: number[], channels: number) => (format === 'channels_last' ? [2, ...spatial, channels] : [2, channels, ...spatial]);

/** Per layer: an arbitrary (config, input shape). */
const families: [string, fc.Arbitrary<Drawn>][] = [
  ['Conv1D', fc.record({ f: small(1, 3), k: small(1, 3), d: small(1, 2), p: fc.constantFrom('valid', 'same', 'causal'), format: fmt, c: small(1, 2) }).map((o) => ({ layer: L.Conv1D({ filters: o.f, kernel_size: o.k, dilation_rate: o.d, padding: o.p, data_format: o.format }), shape: shapeOf(o.format, [5], o.c) }))],
  ['Conv3D', fc.record({ f: small(1, 2), k: small(1, 2), s: small(1, 2), p: pad, format: fmt, d: fc.boolean() }).map((o) => ({ layer: L.Conv3D({ filters: o.f, kernel_size: o.k, strides: o.d ? 1 : o.s, dilation_rate: o.d ? 2 : 1, padding: o.p, data_format: o.format }), shape: shapeOf(o.format, [3, 4, 3], 2) }))],
  ['SeparableConv1D', fc.record({ f: small(1, 3), k: small(1, 3), m: small(1, 2), p: fc.constantFrom('valid', 'same', 'causal') }).map((o) => ({ layer: L.SeparableConv1D({ filters: o.f, kernel_size: o.k, depth_multiplier: o.m, padding: o.p }), shape: [2, 5, 2] }))],
  ['SeparableConv2D', fc.record({ f: small(1, 3), k: small(1, 3), m: small(1, 2), s: small(1, 2), p: pad, format: fmt }).map((o) => ({ layer: L.SeparableConv2D({ filters: o.f, kernel_size: o.k, depth_multiplier: o.m, strides: o.s, padding: o.p, data_format: o.format }), shape: shapeOf(o.format, [4, 5], 2) }))],
  ['DepthwiseConv2D', fc.record({ k: small(1, 3), m: small(1, 2), d: small(1, 2), p: pad, format: fmt }).map((o) => ({ layer: L.DepthwiseConv2D({ kernel_size: o.k, depth_multiplier: o.m, dilation_rate: o.d, padding: o.p, data_format: o.format }), shape: shapeOf(o.format, [5, 4], 2) }))],
  ['Conv2DTranspose', fc.record({ f: small(1, 3), k: small(1, 3), s: small(1, 3), p: pad, op: fc.boolean(), format: fmt }).map((o) => ({ layer: L.Conv2DTranspose({ filters: o.f, kernel_size: o.k, strides: o.s, padding: o.p, output_padding: o.op ? o.s - 1 : null, data_format: o.format }), shape: shapeOf(o.format, [3, 2], 2) }))],
  ['Conv3DTranspose', fc.record({ f: small(1, 2), k: small(1, 2), s: small(1, 2), p: pad, format: fmt }).map((o) => ({ layer: L.Conv3DTranspose({ filters: o.f, kernel_size: o.k, strides: o.s, padding: o.p, data_format: o.format }), shape: shapeOf(o.format, [2, 2, 3], 2) }))],
  ['LocallyConnected1D', fc.record({ f: small(1, 3), k: small(1, 3), s: small(1, 2), format: fmt }).map((o) => ({ layer: L.LocallyConnected1D({ filters: o.f, kernel_size: o.k, strides: o.s, data_format: o.format }), shape: shapeOf(o.format, [5], 2) }))],
  ['LocallyConnected2D', fc.record({ f: small(1, 2), k: small(1, 2), s: small(1, 2), format: fmt }).map((o) => ({ layer: L.LocallyConnected2D({ filters: o.f, kernel_size: o.k, strides: o.s, data_format: o.format }), shape: shapeOf(o.format, [3, 4], 2) }))],
  ['Cropping/ZeroPadding/UpSampling', fc.record({ which: small(0, 6), format: fmt }).map((o) => {
    const layers = [
      () => ({ layer: L.Cropping1D({ cropping: [1, 2] }), shape: [2, 6, 2] }),
      () => ({ layer: L.Cropping3D({ data_format: o.format }), shape: shapeOf(o.format, [3, 3, 4], 2) }),
      () => ({ layer: L.ZeroPadding3D({ padding: [1, 0, 2], data_format: o.format }), shape: shapeOf(o.format, [2, 2, 2], 2) }),
      () => ({ layer: L.UpSampling1D({ size: 3 }), shape: [2, 3, 2] }),
      () => ({ layer: L.UpSampling2D({ size: [2, 3], interpolation: 'bilinear', data_format: o.format }), shape: shapeOf(o.format, [3, 2], 2) }),
      () => ({ layer: L.UpSampling3D({ size: [2, 1, 2], data_format: o.format }), shape: shapeOf(o.format, [2, 2, 2], 2) }),
      () => ({ layer: L.Permute({ dims: [2, 3, 1] }), shape: [2, 3, 4, 2] }),
    ];
    return layers[o.which]();
  })],
  ['Pooling 1D/3D', fc.record({ which: small(0, 5), p: pad, format: fmt }).map((o) => {
    const layers = [
      () => ({ layer: L.MaxPooling1D({ pool_size: 2, strides: 1, padding: o.p, data_format: o.format }), shape: shapeOf(o.format, [5], 2) }),
      () => ({ layer: L.AveragePooling1D({ pool_size: 3, strides: 2, padding: o.p, data_format: o.format }), shape: shapeOf(o.format, [6], 2) }),
      () => ({ layer: L.MaxPooling3D({ pool_size: [2, 2, 1], strides: [1, 2, 1], padding: o.p, data_format: o.format }), shape: shapeOf(o.format, [3, 4, 2], 2) }),
      () => ({ layer: L.AveragePooling3D({ pool_size: 2, strides: [1, 2, 2], padding: o.p, data_format: o.format }), shape: shapeOf(o.format, [3, 4, 3], 2) }),
      () => ({ layer: L.GlobalMaxPooling3D({ data_format: o.format }), shape: shapeOf(o.format, [2, 2, 3], 2) }),
      () => ({ layer: L.GlobalAveragePooling1D({ data_format: o.format }), shape: shapeOf(o.format, [4], 3) }),
    ];
    return layers[o.which]();
  })],
];

type Args = { x: tf.Tensor; params: Record<string, tf.Tensor>; r: tf.Tensor };

/** Distinct, well-separated input values, so that max pooling has no near-ties within eps. */
function makeArgs(d: Drawn): Args {
  const init = d.layer.init(makeKey(1), [null, ...d.shape.slice(1)]);
  const params = Object.fromEntries(
    Object.entries(init.params).map(([k, v], i) => {
      const t = tf.randomUniform(v.shape, -0.8, 0.8, 'float32', 20 + i);
      v.dispose();
      return [k, t];
    }),
  );
  const size = d.shape.reduce((a, b) => a * b, 1);
  const perm = tf.tidy(() => tf.reshape(tf.div(tf.cast(tf.topk(tf.randomUniform([size], 0, 1, 'float32', 3), size).indices, 'float32'), size / 4), d.shape));
  const x = tf.tidy(() => tf.sub(perm, 2));
  perm.dispose();
  const yShape = tf.tidy(() => (d.layer.apply(params, {}, x, { training: false }).outputs as tf.Tensor).shape);
  const r = tf.randomNormal(yShape, 0, 1, 'float32', 4);
  return { x, params, r };
}

function lossFn(layer: Layer, names: string[], r: tf.Tensor) {
  return (x: tf.Tensor, ...ws: tf.Tensor[]) =>
    tf.sum(tf.mul(layer.apply(Object.fromEntries(names.map((n, i) => [n, ws[i]])), {}, x, { training: false }).outputs as tf.Tensor, r)) as tf.Scalar;
}

function analytic(d: Drawn, a: Args): Float32Array[] {
  const names = Object.keys(a.params);
  const gs = tf.grads(lossFn(d.layer, names, a.r))([a.x, ...names.map((n) => a.params[n])]);
  const out = gs.map((g) => g.dataSync() as Float32Array);
  tf.dispose(gs);
  return out;
}

for (const [name, arb] of families) {
  test(`${name}: gradients equal central finite differences (cpu) and the wasm gradients`, async () => {
    const samples = fc.sample(arb, { numRuns: 4, seed: 42 });
    for (const d of samples) {
      const what = `${d.layer.className} ${JSON.stringify(d.layer.getConfig())} on ${JSON.stringify(d.shape)}`;
      const cpu = await onBackend('cpu', () => {
        const before = tf.memory().numTensors;
        const a = makeArgs(d);
        const names = Object.keys(a.params);
        const f = lossFn(d.layer, names, a.r);
        const tensors = [a.x, ...names.map((n) => a.params[n])];
        const grads = analytic(d, a);
        const eps = 1e-2;
        tensors.forEach((t, ti) => {
          const base = t.dataSync().slice();
          const g = grads[ti];
          const scale = Math.max(...Array.from(g).map(Math.abs), 1e-3);
          for (let s = 0; s < Math.min(6, base.length); s++) {
            const i = Math.floor(((s * 7919 + 13) % 104729) % base.length);
            const value = (delta: number) => {
              const copy = base.slice();
              copy[i] += delta;
              const probe = tf.tensor(copy, t.shape);
              const args = tensors.map((u, j) => (j === ti ? probe : u));
              const l = tf.tidy(() => f(args[0], ...args.slice(1)).dataSync()[0]);
              probe.dispose();
              return l;
            };
            const fd = (value(eps) - value(-eps)) / (2 * eps);
            assert.ok(Math.abs(fd - g[i]) <= 2e-2 * scale, `${what}: d/d${ti === 0 ? 'x' : names[ti - 1]}[${i}]: analytic ${g[i]}, finite difference ${fd}`);
          }
        });
        tf.dispose([a.x, a.r, ...Object.values(a.params)]);
        assert.equal(tf.memory().numTensors, before, `${what}: tensors leaked`);
        return grads;
      });
      const wasm = await onBackend('wasm', () => {
        const a = makeArgs(d);
        const grads = analytic(d, a);
        tf.dispose([a.x, a.r, ...Object.values(a.params)]);
        return grads;
      });
      cpu.forEach((g, j) => {
        const scale = Math.max(...Array.from(g).map(Math.abs), 1e-6);
        const err = Math.max(...Array.from(g).map((v, i) => Math.abs(v - wasm[j][i]))) / scale;
        assert.ok(err <= 1e-4, `${what}: wasm vs cpu gradient ${j}: relative error ${err.toExponential(2)}`);
      });
    }
  });
}

const trainCases: [string, () => Layer, number[]][] = [
  ['Conv1D', () => L.Conv1D({ filters: 2, kernel_size: 3, padding: 'causal', dilation_rate: 2 }), [4, 8, 2]],
  ['Conv3D', () => L.Conv3D({ filters: 2, kernel_size: 2, data_format: 'channels_first' }), [2, 2, 3, 4, 3]],
  ['SeparableConv1D', () => L.SeparableConv1D({ filters: 2, kernel_size: 3, depth_multiplier: 2 }), [4, 7, 2]],
  ['SeparableConv2D', () => L.SeparableConv2D({ filters: 2, kernel_size: 2, padding: 'same' }), [3, 5, 4, 2]],
  ['DepthwiseConv2D', () => L.DepthwiseConv2D({ kernel_size: 3, depth_multiplier: 2, dilation_rate: 2 }), [3, 6, 6, 2]],
  ['Conv2DTranspose', () => L.Conv2DTranspose({ filters: 2, kernel_size: 3, strides: 2, output_padding: 1 }), [3, 3, 3, 2]],
  ['Conv3DTranspose', () => L.Conv3DTranspose({ filters: 2, kernel_size: 2, strides: 2, padding: 'same' }), [2, 2, 2, 3, 2]],
  ['LocallyConnected1D', () => L.LocallyConnected1D({ filters: 2, kernel_size: 2 }), [4, 5, 2]],
  ['LocallyConnected2D', () => L.LocallyConnected2D({ filters: 2, kernel_size: 2, data_format: 'channels_first' }), [3, 2, 4, 4]],
  ['Cropping1D', () => L.Cropping1D(), [3, 5, 2]],
  ['Cropping2D', () => L.Cropping2D({ cropping: 1 }), [3, 4, 4, 2]],
  ['Cropping3D', () => L.Cropping3D(), [2, 3, 3, 3, 2]],
  ['UpSampling1D', () => L.UpSampling1D(), [3, 3, 2]],
  ['UpSampling2D bilinear', () => L.UpSampling2D({ interpolation: 'bilinear' }), [2, 3, 3, 2]],
  ['UpSampling3D', () => L.UpSampling3D(), [2, 2, 2, 2, 1]],
  ['ZeroPadding1D', () => L.ZeroPadding1D(), [3, 3, 2]],
  ['ZeroPadding2D', () => L.ZeroPadding2D(), [3, 3, 3, 2]],
  ['ZeroPadding3D', () => L.ZeroPadding3D(), [2, 2, 2, 2, 2]],
  ['MaxPooling1D', () => L.MaxPooling1D(), [3, 6, 2]],
  ['AveragePooling1D', () => L.AveragePooling1D(), [3, 6, 2]],
  ['MaxPooling3D', () => L.MaxPooling3D(), [2, 4, 4, 2, 2]],
  ['AveragePooling3D', () => L.AveragePooling3D(), [2, 4, 4, 2, 2]],
  ['GlobalMaxPooling1D', () => L.GlobalMaxPooling1D(), [3, 4, 2]],
  ['GlobalAveragePooling1D', () => L.GlobalAveragePooling1D(), [3, 4, 2]],
  ['GlobalMaxPooling3D', () => L.GlobalMaxPooling3D(), [2, 2, 3, 2, 2]],
  ['GlobalAveragePooling3D', () => L.GlobalAveragePooling3D(), [2, 2, 3, 2, 2]],
  ['RepeatVector', () => L.RepeatVector({ n: 3 }), [3, 4]],
  ['Permute', () => L.Permute({ dims: [2, 1] }), [3, 4, 2]],
];

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: every layer trains (SGD lowers a toy regression loss)`, () =>
    onBackend(backend, () => {
      for (const [name, make, shape] of trainCases) {
        const before = tf.memory().numTensors;
        const layer = make();
        const init = layer.init(makeKey(5), [null, ...shape.slice(1)]);
        const teacher = layer.init(makeKey(6), [null, ...shape.slice(1)]);
        const x = tf.randomNormal(shape, 0, 1, 'float32', 8);
        const target = tf.tidy(() => layer.apply(teacher.params, {}, tf.add(x, 0.3), { training: false }).outputs as tf.Tensor);
        const names = Object.keys(init.params);
        let vars = [tf.zeros(shape.slice(1)), ...names.map((n) => init.params[n])];
        const loss = (offset: tf.Tensor, ...ws: tf.Tensor[]) =>
          tf.div(tf.sum(tf.square(tf.sub(layer.apply(Object.fromEntries(names.map((n, i) => [n, ws[i]])), {}, tf.add(x, offset), { training: false }).outputs as tf.Tensor, target))), target.size) as tf.Scalar;
        const losses: number[] = [];
        for (let step = 0; step < 6; step++) {
          const { value, grads } = tf.valueAndGrads(loss)(vars);
          losses.push(value.dataSync()[0]);
          const next = vars.map((v, i) => tf.tidy(() => tf.sub(v, tf.mul(grads[i], i === 0 ? 1 : 0.2))));
          tf.dispose([value, ...grads, ...vars]);
          vars = next;
        }
        assert.ok(losses[losses.length - 1] < losses[0] * 0.99 && losses.every((l, i) => i === 0 || l <= losses[i - 1] * (1 + 1e-6)), `${backend} ${name}: loss ${losses.map((l) => l.toFixed(4)).join(' -> ')}`);
        tf.dispose([x, target, ...vars, ...Object.values(teacher.params)]);
        assert.equal(tf.memory().numTensors, before, `${backend} ${name}: tensors leaked`);
      }
    }));
}
