/**
 * Keras `TimeDistributed` (src/layers/time-distributed.ts): Dense and Conv2D
 * inside it against tfjs-layers on wasm and cpu, masks, run_layer_test, its
 * Keras name.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as L from '../../src/layers/index.js';
import type { Layer } from '../../src/layers/layer.js';
import { runLayerTest } from '../../src/testing/index.js';
import { differentialTests, type DiffCase } from '../helpers/recurrent.js';

const cases: DiffCase[] = [
  {
    name: 'TimeDistributed Dense',
    ours: () => L.TimeDistributed({ layer: L.Dense({ units: 3, activation: 'tanh' }) }),
    theirs: () => tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 3, activation: 'tanh' }) }),
    shape: [2, 4, 5],
  },
  {
    name: 'TimeDistributed Conv2D',
    ours: () => L.TimeDistributed({ layer: L.Conv2D({ filters: 2, kernel_size: 2 }) }),
    theirs: () => tfl.layers.timeDistributed({ layer: tfl.layers.conv2d({ filters: 2, kernelSize: 2 }) }),
    shape: [2, 3, 4, 4, 2],
  },
];
differentialTests(cases);

test('TimeDistributed passes the mask through and wraps Masking masks', () => {
  const td = L.TimeDistributed({ layer: L.Dense({ units: 2 }) });
  const m = tf.tensor2d([[1, 0, 1]], undefined, 'bool');
  const x = tf.ones([1, 3, 4]);
  assert.equal(td.computeMask!(x, m), m);
  const tm = L.TimeDistributed({ layer: L.Masking() });
  const x2 = tf.tensor4d([[[[0, 0], [1, 0]], [[0, 0], [0, 0]]]]);
  const mm = tm.computeMask!(x2, null) as tf.Tensor;
  assert.deepEqual(mm.arraySync(), [[1, 0]]);
  tf.dispose([m, x, x2, mm]);
});

test('run_layer_test: output shapes, parameter counts (Keras count_params), config round trips', async () => {
  const cases: [Layer, (number | null)[], number, (number | null)[] | undefined][] = [
    [L.TimeDistributed({ layer: L.Dense({ units: 3 }) }), [null, 4, 5], 5 * 3 + 3, [null, 4, 3]],
  ];
  for (const [layer, inputShape, expectedParams, expectedOutputShape] of cases)
    await runLayerTest({ layer, inputShape, expectedParams, expectedOutputShape, training: true });
});

test('Keras name and config (the wrapped layer)', () => {
  const td = L.TimeDistributed({ layer: L.Dense({ units: 2 }) });
  assert.match(td.name, /^time_distributed(_\d+)?$/);
  assert.deepEqual((td.getConfig() as unknown as { layer: { class_name: string } }).layer.class_name, 'Dense');
});
