/**
 * The same seeds give the same run: two equal models built one after the
 * other (so their layers have other names, dense_3 and dense_5) draw the
 * same Dropout masks and train to the same weights, from arrays or from a
 * data set.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../../src/ops/index.js';
import { Dense, Dropout } from '../../src/layers/index.js';
import { Sequential } from '../../src/models/index.js';
import { batch, fromTensors } from '../../streams/index.js';

const make = () => {
  const m = new Sequential({ layers: [Dense({ units: 8, activation: 'relu', input_shape: [3] }), Dropout({ rate: 0.5 }), Dense({ units: 2 })] }).build(1);
  m.compile({ optimizer: 'sgd', loss: 'mse' }, 5);
  return m;
};

test('equal models with the same seeds: the same Dropout masks, losses and weights (arrays and data sets)', async () => {
  const x = ops.randomNormal([16, 3], 0, 1, 'float32', 1);
  const y = ops.randomNormal([16, 2], 0, 1, 'float32', 2);
  const runs: { loss: number[]; weights: number[][] }[] = [];
  const names = new Set<string>();
  for (const fromDataset of [false, false, true]) {
    const m = make();
    names.add(m.layers[0].name);
    const h = fromDataset ? await m.fit(fromTensors(x, y).pipe(batch(4)), { epochs: 2, verbose: 0 }) : await m.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
    const weights = m.getWeights();
    runs.push({ loss: h.history.loss, weights: weights.map((w) => Array.from(w.dataSync())) });
    ops.dispose(weights);
    m.dispose();
  }
  assert.equal(names.size, 3, 'the models have other layer names');
  assert.deepEqual(runs[1], runs[0]);
  assert.deepEqual(runs[2], runs[0]);
  ops.dispose([x, y]);
});
