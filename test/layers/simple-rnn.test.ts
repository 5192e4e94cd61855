/**
 * Keras `SimpleRNN` (src/layers/simple-rnn.ts): forward and gradients
 * against tfjs-layers on wasm and cpu, run_layer_test, its Keras name.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import * as L from '../../src/layers/index.js';
import type { Layer } from '../../src/layers/layer.js';
import { runLayerTest } from '../../src/testing/index.js';
import { differentialTests, rnnDefaults, type DiffCase } from '../helpers/recurrent.js';

const cases: DiffCase[] = [
  { name: 'SimpleRNN', ours: () => L.SimpleRNN({ units: 4 }), theirs: () => tfl.layers.simpleRNN({ units: 4, ...rnnDefaults }), shape: [2, 5, 3] },
  {
    name: 'SimpleRNN relu sequences backwards',
    ours: () => L.SimpleRNN({ units: 3, activation: 'relu', return_sequences: true, go_backwards: true }),
    theirs: () => tfl.layers.simpleRNN({ units: 3, activation: 'relu', returnSequences: true, goBackwards: true, ...rnnDefaults }),
    shape: [2, 4, 3],
  },
];
differentialTests(cases);

test('run_layer_test: output shapes, parameter counts (Keras count_params), config round trips', async () => {
  const cases: [Layer, (number | null)[], number, (number | null)[] | undefined][] = [
    [L.SimpleRNN({ units: 5 }), [null, 4, 3], 3 * 5 + 5 * 5 + 5, [null, 5]],
    [L.SimpleRNN({ units: 2, return_sequences: true, use_bias: false, dropout: 0.2 }), [null, 4, 3], 3 * 2 + 2 * 2, [null, 4, 2]],
  ];
  for (const [layer, inputShape, expectedParams, expectedOutputShape] of cases)
    await runLayerTest({ layer, inputShape, expectedParams, expectedOutputShape, training: true });
});

test('Keras name', () => {
  assert.match(L.SimpleRNN({ units: 1 }).name, /^simple_rnn(_\d+)?$/);
});
