/**
 * Keras `GRU` (src/layers/gru.ts): reset_after=false against tfjs-layers on
 * wasm and cpu; reset_after=True (which tfjs-layers lacks), masks,
 * go_backwards and initial states against a float64 numpy re-implementation
 * of Keras; its gradients on cpu against wasm; run_layer_test.
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { makeKey } from '../../src/core/rng.js';
import { leaves, fromLeaves, type TensorTree } from '../../src/core/tree.js';
import * as L from '../../src/layers/index.js';
import type { Layer, Weights } from '../../src/layers/layer.js';
import { runLayerTest } from '../../src/testing/index.js';
import { needsPython } from '../helpers/python.js';
import { MASK, arr, close, differentialTests, list, randomize, reference, rnnDefaults, weightsJson, type DiffCase } from '../helpers/recurrent.js';

const cases: DiffCase[] = [
  {
    name: 'GRU reset_after=false',
    ours: () => L.GRU({ units: 4, reset_after: false }),
    theirs: () => tfl.layers.gru({ units: 4, ...rnnDefaults }),
    shape: [2, 5, 3],
  },
  {
    name: 'GRU reset_after=false masked sequences, hard_sigmoid',
    ours: () => L.GRU({ units: 3, reset_after: false, return_sequences: true, recurrent_activation: 'hard_sigmoid' }),
    theirs: () => tfl.layers.gru({ units: 3, returnSequences: true, ...rnnDefaults, recurrentActivation: 'hardSigmoid' }),
    shape: [2, 5, 2],
    mask: MASK,
  },
];
differentialTests(cases);

test('GRU reset_after=True (and false), masked, backwards, initial_state match a float64 numpy re-implementation of Keras', { skip: needsPython('numpy') }, () => {
  const configs = [
    { units: 3, return_sequences: true },
    { units: 4, return_sequences: false, go_backwards: true, recurrent_activation: 'hard_sigmoid' },
    { units: 3, return_sequences: true, return_state: true, mask: true },
    { units: 2, return_state: true, initial: true, mask: true },
    { units: 3, reset_after: false, return_sequences: true, mask: true, initial: true },
    { units: 3, use_bias: false, return_sequences: true },
  ];
  const requests: unknown[] = [];
  const ours: tf.Tensor[][] = [];
  const owned: tf.Tensor[] = [];
  configs.forEach((cfg, n) => {
    const { mask: withMask, initial: withInitial, ...layerCfg } = cfg as Record<string, unknown>;
    const layer = L.GRU(layerCfg as L.GRUArgs);
    const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 50 + n);
    const mask = withMask ? tf.tensor2d(MASK, undefined, 'bool') : null;
    const init = layer.init(makeKey(n), [null, 5, 3]);
    const p = randomize(init.params as TensorTree, 60 + 10 * n) as Weights;
    const h0 = withInitial ? [tf.randomNormal([2, layerCfg.units as number], 0, 0.5, 'float32', 7)] : [];
    const y = list(layer.apply(p, {}, h0.length ? [x, ...h0] : x, { training: false, mask }).outputs);
    owned.push(x, ...(mask ? [mask] : []), ...Object.values(p), ...h0, ...y);
    ours.push(y);
    requests.push({ op: 'rnn', kind: 'GRU', config: layer.getConfig(), weights: weightsJson(p), x: arr(x), mask: mask ? MASK : null, initial: h0.map(arr) });
  });
  const expected = reference(requests);
  ours.forEach((ys, n) => ys.forEach((y, i) => close(y, expected[n][i], `GRU case ${n} output ${i}`)));
  tf.dispose(owned);
});

test('GRU reset_after=True and masked Bidirectional: gradients on cpu equal wasm within 1e-4', async () => {
  const layers = [L.GRU({ units: 3, return_sequences: true }), L.Bidirectional({ layer: L.GRU({ units: 2, return_sequences: true }), merge_mode: 'ave' })];
  for (const layer of layers) {
    const compute = () => {
      const init = layer.init(makeKey(4), [null, 4, 3]);
      const p = randomize(init.params as TensorTree, 5);
      const names = leaves(p).map(([k]) => k);
      const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 6);
      const mask = tf.tensor2d(MASK.map((r) => r.slice(0, 4)), undefined, 'bool');
      const r = tf.randomNormal([2, 4, layer.className === 'GRU' ? 3 : 2], 0, 1, 'float32', 7);
      const gs = tf.grads((xi: tf.Tensor, ...ws: tf.Tensor[]) =>
        tf.sum(tf.mul(layer.apply(fromLeaves(names.map((n, i) => [n, ws[i]])) as Weights, {}, xi, { training: false, mask }).outputs as tf.Tensor, r)) as tf.Scalar,
      )([x, ...leaves(p).map(([, t]) => t)]);
      const out = gs.map((g) => g.dataSync().slice());
      tf.dispose([x, mask, r, ...gs, ...leaves(p).map(([, t]) => t)]);
      return out;
    };
    const wasm = await onBackend('wasm', compute);
    const cpu = await onBackend('cpu', compute);
    wasm.forEach((g, i) => {
      const t = tf.tensor(g);
      close(t, cpu[i], `${layer.className} gradient ${i} wasm vs cpu`, 1e-4);
      t.dispose();
    });
  }
});

test('run_layer_test: output shapes, parameter counts (Keras count_params), config round trips', async () => {
  const cases: [Layer, (number | null)[], number, (number | null)[] | undefined][] = [
    [L.GRU({ units: 4 }), [null, 4, 3], 3 * (3 * 4 + 4 * 4) + 2 * 3 * 4, [null, 4]],
    [L.GRU({ units: 4, reset_after: false }), [null, 4, 3], 3 * (3 * 4 + 4 * 4 + 4), [null, 4]],
  ];
  for (const [layer, inputShape, expectedParams, expectedOutputShape] of cases)
    await runLayerTest({ layer, inputShape, expectedParams, expectedOutputShape, training: true });
});

test('Keras default: reset_after is true', () => {
  const gru = L.GRU({ units: 2 }).getConfig() as Record<string, unknown>;
  assert.equal(gru.reset_after, true);
});
