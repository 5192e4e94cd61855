/**
 * Keras `ConvLSTM2D` (src/layers/conv-lstm2d.ts): 'same' and strided 'valid'
 * against tfjs-layers on wasm and cpu, run_layer_test, its Keras name and
 * defaults.
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
  {
    name: 'ConvLSTM2D same',
    ours: () => L.ConvLSTM2D({ filters: 2, kernel_size: 3, padding: 'same', return_sequences: true }),
    theirs: () => tfl.layers.convLstm2d({ filters: 2, kernelSize: 3, padding: 'same', returnSequences: true, ...rnnDefaults, recurrentActivation: 'hardSigmoid' }),
    shape: [2, 3, 5, 4, 2],
  },
  {
    name: 'ConvLSTM2D valid strided, return_state',
    ours: () => L.ConvLSTM2D({ filters: 2, kernel_size: [2, 3], strides: 2, return_state: true, recurrent_activation: 'sigmoid' }),
    theirs: () => tfl.layers.convLstm2d({ filters: 2, kernelSize: [2, 3], strides: 2, returnState: true, ...rnnDefaults }),
    shape: [1, 3, 6, 7, 2],
  },
];
differentialTests(cases);

test('run_layer_test: output shapes, parameter counts (Keras count_params), config round trips', async () => {
  const cases: [Layer, (number | null)[], number, (number | null)[] | undefined][] = [
    [L.ConvLSTM2D({ filters: 2, kernel_size: 3 }), [null, 3, 6, 5, 2], 4 * 2 * (9 * 2 + 9 * 2 + 1), [null, 4, 3, 2]],
    [L.ConvLSTM2D({ filters: 2, kernel_size: 2, data_format: 'channels_first', padding: 'same', return_sequences: true }), [null, 3, 2, 4, 5], 4 * 2 * (4 * 2 + 4 * 2 + 1), [null, 3, 2, 4, 5]],
  ];
  for (const [layer, inputShape, expectedParams, expectedOutputShape] of cases)
    await runLayerTest({ layer, inputShape, expectedParams, expectedOutputShape, training: true });
});

test("Keras name (to_snake_case('ConvLSTM2D')) and default recurrent activation", () => {
  assert.match(L.ConvLSTM2D({ filters: 1, kernel_size: 1 }).name, /^conv_lst_m2d(_\d+)?$/, "Keras's to_snake_case('ConvLSTM2D')");
  assert.equal((L.ConvLSTM2D({ filters: 1, kernel_size: 1 }).getConfig() as Record<string, unknown>).recurrent_activation, 'hard_sigmoid');
});
