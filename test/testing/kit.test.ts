/**
 * rxkeras/testing catches what it is for: a deliberately broken layer (a
 * wrong gradient, a leaked tensor, a config that does not round-trip) fails
 * its check with a message that says which, while the correct layer passes;
 * the arbitraries draw what they promise (NaN and infinities on request,
 * models that build, run and round-trip).
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as t from 'io-ts';
import * as tf from '@tensorflow/tfjs-core';
import * as ops from '../../src/ops/index.js';
import { decodeLayerConfig, defineLayer, registerLayer, type Layer } from '../../src/layers/index.js';
import { modelFromConfig } from '../../src/models/index.js';
import {
  GradientMismatchError, TensorLeakError, checkLayerGradients, expectNoLeaks, functionalModels, randomParams, runLayerTest,
  sequentialModels, tensorData, toTensor,
} from '../../src/testing/index.js';

type Fault = 'none' | 'gradient' | 'leak' | 'config';
const leaked: ops.Tensor[] = [];

/** y = x^3 * scale per unit: a small custom layer, correct or with one fault. */
function Cube(raw: unknown, fault: Fault = 'none'): Layer {
  const decoded = decodeLayerConfig('Cube', t.partial({ units: t.number }), raw);
  const c = { ...decoded, units: decoded.units ?? 2 };
  const cube = tf.customGrad((...args) => {
    const [x, save] = args as [ops.Tensor, (tensors: ops.Tensor[]) => void];
    save([x]);
    return {
      value: ops.mul(x, ops.square(x)),
      // Fault 'gradient': 2x instead of 3x^2.
      gradFunc: (dy, [saved]) => ops.mul(dy, fault === 'gradient' ? ops.mul(saved, 2) : ops.mul(ops.square(saved), 3)),
    };
  });
  const layer = defineLayer('Cube', c, {
    init: (_key, s) => ({ params: { scale: ops.ones([c.units]) }, state: {}, outputShape: [(s as (number | null)[])[0], c.units] }),
    apply: (p, state, x) => {
      if (fault === 'leak') leaked.push(ops.scalar(1));
      const y = ops.tidy(() => ops.mul(cube(ops.slice(x as ops.Tensor, [0, 0], [-1, c.units]) as ops.Tensor), p.scale));
      return { outputs: y, state };
    },
    computeOutputShape: (s) => [(s as (number | null)[])[0], c.units],
  });
  // Fault 'config': getConfig forgets `units`, so the layer read back has the default (2).
  const { units: _, ...forgetful } = c;
  return fault === 'config' ? ({ ...layer, getConfig: () => forgetful } as Layer) : layer;
}

test('runLayerTest passes a correct custom layer and names the fault of a broken one', async () => {
  for (const fault of ['none', 'leak', 'config'] as Fault[]) {
    registerLayer('Cube', (config) => Cube(config, fault));
    const run = runLayerTest({ layer: Cube({ units: 3 }, fault), inputShape: [null, 4], expectedParams: 3 });
    if (fault === 'none') await run;
    if (fault === 'leak') await assert.rejects(run, (e: Error) => e instanceof TensorLeakError && /Cube on \[null,4\]: runLayerTest: \d+ tensors? leaked/.test(e.message));
    if (fault === 'config') await assert.rejects(run, (e: Error) => e.name === 'AssertionError' && /Cube on \[null,4\]: .*round trip/.test(e.message));
  }
  ops.dispose(leaked.splice(0));
});

test('checkLayerGradients passes the right gradient and catches a wrong one', () => {
  for (const fault of ['none', 'gradient'] as Fault[]) {
    const layer = Cube({ units: 2 }, fault);
    const params = randomParams(layer, [null, 3]);
    const x = ops.randomUniform([2, 3], -1, 1, 'float32', 4);
    const check = () => expectNoLeaks(() => checkLayerGradients(layer, params, [x]));
    if (fault === 'none') assert.ok(check() < 2e-2);
    else assert.throws(check, (e: Error) => e instanceof GradientMismatchError && /gradient of input 0 at element 0: analytic .*, finite differences/.test(e.message));
    ops.dispose([x, ...Object.values(params)]);
  }
});

test('expectNoLeaks counts what a function leaves behind, not what it returns, sync and async', async () => {
  const kept = expectNoLeaks(() => ops.tidy(() => ops.add(ops.ones([2]), 1)));
  kept.dispose();
  assert.throws(() => expectNoLeaks(() => void ops.ones([2]), 'f'), (e: Error) => e instanceof TensorLeakError && e.message === 'f: 1 tensor leaked (not disposed, not returned)');
  const stray: ops.Tensor[] = [];
  await assert.rejects(
    expectNoLeaks(async () => {
      stray.push(ops.zeros([1]), ops.zeros([1]));
    }, 'g'),
    /g: 2 tensors leaked/,
  );
  ops.dispose(stray);
});

test('tensorData: values fit shape and dtype; NaN and infinities only on request', () => {
  const plain = fc.sample(tensorData({ dtype: ['float32', 'int32', 'bool'], min: -3, max: 3 }), 200);
  for (const d of plain) {
    assert.equal(d.values.length, d.shape.reduce((a, b) => a * b, 1));
    assert.ok(d.values.every((v) => Number.isFinite(v) && v >= -3 && v <= 3));
    if (d.dtype !== 'float32') assert.ok(d.values.every(Number.isInteger));
  }
  const wild = fc.sample(tensorData({ shape: [8], nan: true, infinity: true }), 100).flatMap((d) => d.values);
  assert.ok(wild.some(Number.isNaN) && wild.includes(Infinity) && wild.includes(-Infinity));
  const tensor = toTensor({ shape: [2], dtype: 'int32', values: [1, 2] });
  assert.deepEqual([tensor.dtype, ...tensor.dataSync()], ['int32', 1, 2]);
  tensor.dispose();
});

test('sequentialModels and functionalModels build, predict the right shape and round-trip their JSON (property)', () => {
  fc.assert(
    fc.property(fc.oneof(sequentialModels(), functionalModels()), (config) => {
      const model = modelFromConfig(config).build(1);
      const inputDim = model.inputs[0].shape[1] as number;
      const units = (model.outputs[0].shape[1] as number);
      expectNoLeaks(() => {
        const y = ops.tidy(() => model.predict(ops.randomNormal([3, inputDim], 0, 1, 'float32', 1)) as ops.Tensor);
        assert.deepEqual(y.shape, [3, units]);
        assert.ok(y.dataSync().every(Number.isFinite));
        y.dispose();
      });
      assert.equal(modelFromConfig(JSON.parse(model.toJSON())).toJSON(), model.toJSON());
      model.dispose();
    }),
    { numRuns: 15, seed: 7 },
  );
});
