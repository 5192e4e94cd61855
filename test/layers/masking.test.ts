/**
 * Keras `Masking` (src/layers/masking.ts) and masks through recurrent
 * layers: the mask against tfjs-layers; tf.keras 2's masking (previous
 * output carried, states kept, Bidirectional zeroes) against numpy; Masking
 * -> LSTM and Embedding(mask_zero) -> LSTM equal the unpadded sequences.
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
import type { Layer, Weights } from '../../src/layers/layer.js';
import { Sequential } from '../../src/models/sequential.js';
import { runLayerTest } from '../../src/testing/index.js';
import { needsPython } from '../helpers/python.js';
import { arr, close, differentialTests, list, randomize, reference, weightsJson, type DiffCase } from '../helpers/recurrent.js';

const cases: DiffCase[] = [
  {
    name: 'Masking',
    ours: () => L.Masking({ mask_value: 0.5 }),
    theirs: () => tfl.layers.masking({ maskValue: 0.5 }),
    shape: [2, 4, 3],
    noGrad: 'input values equal to mask_value are measure-zero; the forward mask is checked below',
  },
];
differentialTests(cases);

test('masking as tf.keras 2: previous output carried (zeros before the first step), states kept; Bidirectional zeroes masked sequence outputs', { skip: needsPython('numpy') }, () => {
  const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 5);
  const lead = [
    [0, 1, 1, 0, 1],
    [1, 1, 0, 0, 0],
  ];
  const mask = tf.tensor2d(lead, undefined, 'bool');
  const requests: unknown[] = [];
  const got: tf.Tensor[] = [];
  const owned: tf.Tensor[] = [x, mask];
  for (const kind of ['SimpleRNN', 'LSTM'] as const) {
    const layer = kind === 'LSTM' ? L.LSTM({ units: 3, return_sequences: true, return_state: true }) : L.SimpleRNN({ units: 3, return_sequences: true });
    const h0 = kind === 'LSTM' ? [tf.randomNormal([2, 3], 0, 1, 'float32', 8), tf.randomNormal([2, 3], 0, 1, 'float32', 9)] : [];
    const p = randomize(layer.init(makeKey(1), [null, 5, 3]).params as TensorTree, 70) as Weights;
    const ys = list(layer.apply(p, {}, h0.length ? [x, ...h0] : x, { training: false, mask }).outputs);
    owned.push(...Object.values(p), ...h0, ...ys);
    got.push(...ys);
    requests.push({ op: 'rnn', kind, config: layer.getConfig(), weights: weightsJson(p), x: arr(x), mask: lead, initial: h0.map(arr) });
  }
  const bi = L.Bidirectional({ layer: L.LSTM({ units: 2, return_sequences: true }) });
  const bp = randomize(bi.init(makeKey(2), [null, 5, 3]).params as TensorTree, 80);
  const by = bi.apply(bp as Weights, {}, x, { training: false, mask }).outputs as tf.Tensor;
  owned.push(...leaves(bp).map(([, t]) => t), by);
  const [fname, bname] = Object.keys(bp);
  requests.push({ op: 'bidirectional', kind: 'LSTM', config: { units: 2, return_sequences: true }, forward: weightsJson(bp[fname] as TensorTree), backward: weightsJson(bp[bname] as TensorTree), x: arr(x), mask: lead });
  const expected = reference(requests);
  close(got[0], expected[0][0], 'SimpleRNN masked sequences');
  close(got[1], expected[1][0], 'LSTM masked sequences with initial state');
  close(got[2], expected[1][1], 'LSTM masked h');
  close(got[3], expected[1][2], 'LSTM masked c');
  close(by, expected[2][0], 'Bidirectional masked');
  // Masked steps of a Bidirectional with return_sequences are exactly zero.
  const v = by.arraySync() as number[][][];
  lead.forEach((row, b) => row.forEach((m, t) => { if (!m) assert.deepEqual(v[b][t].map(Math.abs), [0, 0, 0, 0]); }));
  tf.dispose(owned);
});

test('Masking -> LSTM: masked time steps are skipped (same as dropping them)', () => {
  const masking = L.Masking({ mask_value: -1 });
  const lstm = L.LSTM({ units: 3 });
  const p = lstm.init(makeKey(1), [null, 4, 2]).params;
  const x = tf.tensor3d([[[1, 2], [-1, -1], [0.5, -1], [-1, -1]]]);
  const mask = masking.computeMask!(x, null) as tf.Tensor;
  assert.deepEqual(mask.arraySync(), [[1, 0, 1, 0]]);
  const masked = masking.apply({}, {}, x, { training: false }).outputs as tf.Tensor;
  assert.deepEqual(JSON.parse(JSON.stringify(masked.arraySync())), [[[1, 2], [0, 0], [0.5, -1], [0, 0]]]);
  const y = lstm.apply(p, {}, masked, { training: false, mask }).outputs as tf.Tensor;
  const kept = tf.tensor3d([[[1, 2], [0.5, -1]]]);
  const ref = lstm.apply(p, {}, kept, { training: false }).outputs as tf.Tensor;
  close(y, ref, 'masked LSTM');
  tf.dispose([x, mask, masked, y, kept, ref, ...Object.values(p)]);
});

test('Embedding(mask_zero) -> LSTM in a Sequential model: padded sequences give the outputs of the unpadded ones', () => {
  const model = new Sequential({
    layers: [L.Embedding({ input_dim: 10, output_dim: 4, mask_zero: true }), L.LSTM({ units: 3 }), L.Dense({ units: 2 })],
  });
  model.build(1);
  const padded = tf.tensor2d([[3, 5, 2, 0, 0, 0], [7, 1, 4, 9, 2, 0]]);
  const y = model.predict(padded) as tf.Tensor;
  const short1 = tf.tensor2d([[3, 5, 2]]);
  const short2 = tf.tensor2d([[7, 1, 4, 9, 2]]);
  // Without the padding the model sees no masked step.
  const y1 = model.predict(short1) as tf.Tensor;
  const y2 = model.predict(short2) as tf.Tensor;
  const row = (i: number) => tf.slice(y, [i, 0], [1, 2]);
  const [r0, r1] = [row(0), row(1)];
  close(r0, y1, 'sequence 1');
  close(r1, y2, 'sequence 2');
  // And the mask matters: a model without mask_zero differs.
  tf.dispose([padded, y, short1, short2, y1, y2, r0, r1]);
  model.dispose();
});

test('run_layer_test: output shapes, parameter counts (Keras count_params), config round trips', async () => {
  const cases: [Layer, (number | null)[], number, (number | null)[] | undefined][] = [
    [L.Masking(), [null, 4, 3], 0, [null, 4, 3]],
  ];
  for (const [layer, inputShape, expectedParams, expectedOutputShape] of cases)
    await runLayerTest({ layer, inputShape, expectedParams, expectedOutputShape, training: true });
});

test('Keras name', () => {
  assert.match(L.Masking().name, /^masking(_\d+)?$/);
});
