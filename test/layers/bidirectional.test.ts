/**
 * Keras `Bidirectional` (src/layers/bidirectional.ts): every merge mode and
 * return_state against tfjs-layers on wasm and cpu, run_layer_test, Keras's
 * names, weight order and config.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { makeKey } from '../../src/core/rng.js';
import { leaves, type TensorTree } from '../../src/core/tree.js';
import * as L from '../../src/layers/index.js';
import type { Layer } from '../../src/layers/layer.js';
import { runLayerTest } from '../../src/testing/index.js';
import { differentialTests, rnnDefaults, type DiffCase } from '../helpers/recurrent.js';

const cases: DiffCase[] = [
  ...(['concat', 'sum', 'mul', 'ave', null] as const).map(
    (mode): DiffCase => ({
      name: `Bidirectional LSTM merge_mode ${mode}`,
      ours: () => L.Bidirectional({ layer: L.LSTM({ units: 3, return_sequences: mode !== 'sum' }), merge_mode: mode }),
      theirs: () =>
        tfl.layers.bidirectional({
          layer: tfl.layers.lstm({ units: 3, returnSequences: mode !== 'sum', ...rnnDefaults }) as tfl.RNN,
          mergeMode: mode === null ? undefined : mode,
          ...(mode === null ? { mergeMode: null as unknown as undefined } : {}),
        }),
      shape: [2, 4, 2],
    }),
  ),
  {
    name: 'Bidirectional GRU (reset_after=false), return_state',
    ours: () => L.Bidirectional({ layer: L.GRU({ units: 2, reset_after: false, return_state: true }) }),
    theirs: () => tfl.layers.bidirectional({ layer: tfl.layers.gru({ units: 2, returnState: true, ...rnnDefaults }) as tfl.RNN }),
    shape: [2, 3, 2],
  },
];
differentialTests(cases);

test('run_layer_test: output shapes, parameter counts (Keras count_params), config round trips', async () => {
  const cases: [Layer, (number | null)[], number, (number | null)[] | undefined][] = [
    // Nested params (forward / backward trees): counted and saved leaf by leaf.
    [L.Bidirectional({ layer: L.LSTM({ units: 2 }) }), [null, 4, 3], 2 * 4 * (3 * 2 + 2 * 2 + 2), [null, 4]],
  ];
  for (const [layer, inputShape, expectedParams, expectedOutputShape] of cases)
    await runLayerTest({ layer, inputShape, expectedParams, expectedOutputShape, training: true });
});

test('Keras names (forward_<name>, backward_<name>), weight order, config round trip and output shapes', () => {
  const bi = L.Bidirectional({ layer: L.GRU({ units: 2, name: 'gru_x' }) });
  assert.match(bi.name, /^bidirectional(_\d+)?$/);
  const bp = bi.init(makeKey(1), [null, 3, 2]).params as TensorTree;
  assert.deepEqual(leaves(bp).map(([k]) => k), ['forward_gru_x/kernel', 'forward_gru_x/recurrent_kernel', 'forward_gru_x/bias', 'backward_gru_x/kernel', 'backward_gru_x/recurrent_kernel', 'backward_gru_x/bias']);
  const bc = bi.getConfig() as Record<string, unknown>;
  assert.deepEqual(bc.layer, { class_name: 'GRU', config: L.GRU({ units: 2, name: 'gru_x' }).getConfig() });
  assert.equal(bc.merge_mode, 'concat');
  const copy = L.layerFromConfig({ class_name: 'Bidirectional', config: JSON.parse(JSON.stringify(bc)) });
  assert.deepEqual(copy.getConfig(), bc);
  assert.deepEqual(copy.computeOutputShape([null, 3, 2]), [null, 4]);
  assert.deepEqual(L.Bidirectional({ layer: L.LSTM({ units: 2, return_state: true }), merge_mode: null }).computeOutputShape([null, 3, 2]), [
    [null, 2], [null, 2], [null, 2], [null, 2], [null, 2], [null, 2],
  ]);
  tf.dispose(leaves(bp).map(([, t]) => t));
});
