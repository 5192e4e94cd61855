/**
 * Keras `LSTM` (src/layers/lstm.ts): forward and gradients against tfjs-
 * layers on wasm and cpu (sequences, state, masks, initial state), the
 * keras2c LSTM model against numpy, run_layer_test, Keras's names, defaults
 * and weight order.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { makeKey } from '../../src/core/rng.js';
import { type TensorTree } from '../../src/core/tree.js';
import * as L from '../../src/layers/index.js';
import type { Layer } from '../../src/layers/layer.js';
import { loadModel } from '../../src/models/io.js';
import { runLayerTest } from '../../src/testing/index.js';
import { needsPython } from '../helpers/python.js';
import { FIXTURES, MASK, arr, close, differentialTests, reference, rnnDefaults, weightsJson, type DiffCase } from '../helpers/recurrent.js';

const cases: DiffCase[] = [
  { name: 'LSTM', ours: () => L.LSTM({ units: 4 }), theirs: () => tfl.layers.lstm({ units: 4, ...rnnDefaults }), shape: [2, 5, 3] },
  {
    name: 'LSTM sequences, state, hard_sigmoid, no bias',
    ours: () => L.LSTM({ units: 3, return_sequences: true, return_state: true, recurrent_activation: 'hard_sigmoid', use_bias: false }),
    theirs: () => tfl.layers.lstm({ units: 3, returnSequences: true, returnState: true, ...rnnDefaults, recurrentActivation: 'hardSigmoid', useBias: false }),
    shape: [2, 4, 2],
  },
  {
    name: 'LSTM go_backwards masked',
    ours: () => L.LSTM({ units: 3, return_sequences: true, go_backwards: true }),
    theirs: () => tfl.layers.lstm({ units: 3, returnSequences: true, goBackwards: true, ...rnnDefaults }),
    shape: [2, 5, 2],
    mask: MASK,
  },
  {
    name: 'LSTM initial_state',
    ours: () => L.LSTM({ units: 3, return_state: true }),
    theirs: () => tfl.layers.lstm({ units: 3, returnState: true, ...rnnDefaults }),
    shape: [2, 4, 2],
    initial: [[2, 3], [2, 3]],
  },
];
differentialTests(cases);

test('keras2c/example_model.h5 (Keras 2.2.4: Dense, Dense, LSTM(relu, hard_sigmoid), Dense) equals a float64 numpy forward pass with its weights', { skip: needsPython('numpy') }, async () => {
  const model = await loadModel(`${FIXTURES}keras2c/example_model.h5`);
  const x = tf.randomNormal([3, 8, 32], 0, 1, 'float32', 12);
  const y = model.predict(x) as tf.Tensor;
  const v = model.variables!;
  const layers = model.layers
    .filter((l) => l.className !== 'InputLayer')
    .map((l) => ({ class_name: l.className, config: l.getConfig(), weights: weightsJson((v.params[l.name] ?? {}) as TensorTree) }));
  assert.deepEqual(layers.map((l) => l.class_name), ['Dense', 'Dense', 'LSTM', 'Dense']);
  assert.equal((layers[2].config as unknown as { recurrent_activation: string }).recurrent_activation, 'hard_sigmoid');
  const [expected] = reference([{ op: 'keras2c', layers, x: arr(x) }]);
  close(y, expected[0], 'keras2c model', 1e-4);
  tf.dispose([x, y]);
  model.dispose();
});

test('run_layer_test: output shapes, parameter counts (Keras count_params), config round trips', async () => {
  const cases: [Layer, (number | null)[], number, (number | null)[] | undefined][] = [
    [L.LSTM({ units: 4 }), [null, 4, 3], 4 * (3 * 4 + 4 * 4 + 4), [null, 4]],
    [L.LSTM({ units: 2, return_sequences: true, go_backwards: true, recurrent_dropout: 0.1, implementation: 1 }), [null, 5, 3], 4 * (3 * 2 + 2 * 2 + 2), [null, 5, 2]],
    [L.LSTM({ units: 3, time_major: true, return_sequences: true }), [6, null, 2], 4 * (2 * 3 + 3 * 3 + 3), [6, null, 3]],
  ];
  for (const [layer, inputShape, expectedParams, expectedOutputShape] of cases)
    await runLayerTest({ layer, inputShape, expectedParams, expectedOutputShape, training: true });
});

test('Keras names, defaults, config keys and weight order; a Keras 2.2 config (hard_sigmoid, implementation 1, input_dim / input_length) is honoured', () => {
  const lstm = L.LSTM({ units: 2 });
  assert.match(lstm.name, /^lstm(_\d+)?$/);
  const c = lstm.getConfig() as Record<string, unknown>;
  assert.equal(c.recurrent_activation, 'sigmoid');
  assert.equal(c.unit_forget_bias, true);
  assert.deepEqual(c.recurrent_initializer, { class_name: 'Orthogonal', config: (c.recurrent_initializer as { config: unknown }).config });
  const p = lstm.init(makeKey(1), [null, 3, 2]).params;
  assert.deepEqual(Object.keys(p), ['kernel', 'recurrent_kernel', 'bias']);
  assert.deepEqual(Array.from(p.bias.dataSync()), [0, 0, 1, 1, 0, 0, 0, 0], 'unit_forget_bias: gates i, f, c, o');
  const old = L.layerFromConfig({ class_name: 'LSTM', config: { units: 2, recurrent_activation: 'hard_sigmoid', implementation: 1, input_dim: 3, input_length: 4 } });
  assert.deepEqual(old.config.batch_input_shape, [null, 4, 3]);
  assert.equal((old.getConfig() as Record<string, unknown>).recurrent_activation, 'hard_sigmoid');
  tf.dispose(Object.values(p));
});
