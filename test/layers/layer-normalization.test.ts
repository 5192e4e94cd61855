/**
 * LayerNormalization: run_layer_test; forward and gradients (inputs, gamma,
 * beta) equal to tfjs-layers' layerNormalization with the same weights within
 * 1e-5 on wasm and cpu; several axes, center/scale off and unsorted axes
 * against numpy (float64, Keras's formula) within 1e-5; gradients against
 * central finite differences (eps 1e-2, rtol 2e-2) for shapes and axes drawn
 * by fast-check; it trains on a toy task on wasm and cpu.
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import fc from 'fast-check';
import { runLayerTest } from '../../src/testing/index.js';
import * as L from '../../src/layers/index.js';
import { checkLayerGradients, randomParams } from '../../src/testing/index.js';
import { trainToy } from '../helpers/train-toy.js';
import { needsPython } from '../helpers/python.js';
import { assertClose, numpy, relError, toJson, type NdArray } from './numpy-reference.js';

test('run_layer_test: LayerNormalization', () =>
  runLayerTest({ layer: L.LayerNormalization(), inputShape: [null, 3, 5], expectedParams: 10, expectedOutputShape: [null, 3, 5] }));
test('run_layer_test: LayerNormalization two axes, no center', () =>
  runLayerTest({ layer: L.LayerNormalization({ axis: [1, 2], center: false, epsilon: 1e-5 }), inputShape: [null, 3, 4], expectedParams: 12 }));

test('config: Keras defaults and name', () => {
  const l = L.LayerNormalization();
  const c = l.getConfig();
  assert.match(l.name, /^layer_normalization(_\d+)?$/);
  assert.equal(c.axis, -1);
  assert.equal(c.epsilon, 1e-3);
  assert.equal(c.center, true);
  assert.equal(c.scale, true);
  assert.deepEqual(c.gamma_initializer, { class_name: 'Ones', config: {} });
  const { params } = l.init(1, [null, 2, 6]);
  assert.deepEqual(Object.keys(params), ['gamma', 'beta']);
  assert.deepEqual(params.gamma.shape, [6]);
  tf.dispose(Object.values(params));
  assert.throws(() => L.LayerNormalization({ axis: [1, 1] }).init(1, [null, 3, 4]), /axis/);
});

for (const backend of ['wasm', 'cpu'] as const)
  test(`${backend}: matches tfjs-layers layerNormalization (forward and gradients)`, () =>
    onBackend(backend, () => {
      const before = tf.memory().numTensors;
      const x = tf.randomNormal([3, 4, 6], 0, 2, 'float32', 1);
      const ours = L.LayerNormalization();
      const params = randomParams(ours, [null, 4, 6]);
      const theirs = tfl.layers.layerNormalization({});
      theirs.build(x.shape);
      theirs.setWeights([params.gamma, params.beta]);
      const y = ours.apply(params, {}, x, { training: false }).outputs as tf.Tensor;
      const ref = tf.tidy(() => theirs.apply(x) as tf.Tensor);
      assertClose(y, ref, `${backend} forward`);
      const r = tf.randomNormal(ref.shape, 0, 1, 'float32', 4);
      const g1 = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(ours.apply({ gamma: g, beta: b }, {}, a, { training: false }).outputs as tf.Tensor, r)))([x, params.gamma, params.beta]);
      const vars = theirs.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
      const xv = tf.variable(x);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(theirs.apply(xv) as tf.Tensor, r)) as tf.Scalar, [xv, ...vars]);
      [xv, ...vars].forEach((v, i) => assertClose(g1[i], grads[v.name], `${backend} gradient ${i}`));
      tf.dispose([x, y, ref, r, xv, value, ...g1, ...Object.values(grads), ...Object.values(params), ...vars]);
      assert.equal(tf.memory().numTensors, before);
    }));

test('several axes, no center/scale, unsorted axes: numpy float64 reference', { skip: needsPython('numpy') }, () => {
  const x = tf.randomNormal([2, 3, 4, 5], 1, 3, 'float32', 7);
  const configs = [
    { axis: [2, 3] },
    { axis: [1, 3], epsilon: 1e-5 },
    { axis: -1, center: false },
    { axis: [3, 1], scale: false },
    { axis: [1, 2, 3] },
  ];
  const runs = configs.map((cfg) => {
    const layer = L.LayerNormalization(cfg);
    const params = randomParams(layer, [null, 3, 4, 5], 40);
    const y = layer.apply(params, {}, x, { training: false }).outputs as tf.Tensor;
    return { cfg: layer.getConfig(), params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, toJson(v)])), y, dispose: Object.values(params) };
  });
  const ref = numpy<NdArray[]>(
    `x = A(D['x']['data']).reshape(D['x']['shape'])
R = []
for run in D['runs']:
    cfg = run['cfg']; axis = cfg['axis'] if isinstance(cfg['axis'], list) else [cfg['axis']]
    axis = [a % x.ndim for a in axis]
    mean = x.mean(axis=tuple(axis), keepdims=True); var = x.var(axis=tuple(axis), keepdims=True)
    bshape = [1] * x.ndim
    for a in axis: bshape[a] = x.shape[a]
    y = (x - mean) / np.sqrt(var + cfg['epsilon'])
    p = run['params']
    if 'gamma' in p: y = y * A(p['gamma']['data']).reshape(bshape)
    if 'beta' in p: y = y + A(p['beta']['data']).reshape(bshape)
    R.append(y)`,
    { x: toJson(x), runs: runs.map(({ cfg, params }) => ({ cfg, params })) },
  );
  runs.forEach((r, i) => {
    const err = relError(r.y, ref[i]);
    assert.ok(err <= 1e-5, `${JSON.stringify(configs[i])}: ${err}`);
  });
  tf.dispose([x, ...runs.flatMap((r) => [r.y, ...r.dispose])]);
});

test('property: gradients match central finite differences', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 2, max: 4 }),
      fc.integer({ min: 2, max: 4 }),
      fc.constantFrom<number | number[]>(-1, 1, [1, 2]),
      fc.boolean(),
      (b, t, d, axis, center) => {
        const layer = L.LayerNormalization({ axis, center });
        const params = randomParams(layer, [null, t, d], 3);
        const x = tf.randomNormal([b, t, d], 0, 1, 'float32', b * 100 + t * 10 + d);
        checkLayerGradients(layer, params, [x]);
        tf.dispose([x, ...Object.values(params)]);
      },
    ),
    { numRuns: 8 },
  );
});

for (const backend of ['wasm', 'cpu'] as const)
  test(`${backend}: LayerNormalization trains (loss decreases)`, () =>
    onBackend(backend, () => {
      const layer = L.LayerNormalization();
      const { params } = layer.init(5, [null, 6]);
      const x = tf.randomNormal([8, 6], 0, 1, 'float32', 2);
      const target = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([8, 6], 0, 1, 'float32', 3), 0.1), tf.linspace(-1, 1, 6)));
      const [first, last] = trainToy(layer, params, [x], target, 40, 0.2);
      assert.ok(last < first * 0.7, `${first} -> ${last}`);
      tf.dispose([x, target, ...Object.values(params)]);
    }));
