/**
 * Issue 5: every layer with trainable weights trains on both wasm and cpu.
 * For each class in knownLayers() (aliases once), built from a minimal Keras
 * config: Input -> layer -> Flatten (when rank > 2) -> Dense(1) frozen, so
 * that only the layer under test can lower the loss; 5 SGD steps on a fixed
 * toy regression; the loss must decrease on each backend, and the two
 * backends' loss curves must agree (same weights, same data).
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as L from '../../src/layers/index.js';
import { Input } from '../../src/layers/input-layer.js';
import type { Shapes } from '../../src/layers/layer.js';
import { Model } from '../../src/models/model.js';
import { SGD } from '../../src/optimizers/index.js';
import { EXPECTED_TRAINABLE, inputShapeOf, inputsFor, isList, make, trainableClasses, values } from '../helpers/trainable-layers.js';

const BATCH = 8;
const STEPS = 5;

/** The loss before each of STEPS SGD steps and after the last. */
function lossCurve(name: string, shape: Shapes): number[] {
  const shapes = isList(shape) ? shape : [shape];
  const inputs = shapes.map((s) => Input({ batch_input_shape: s }));
  let y = make(name).call(isList(shape) ? inputs : inputs[0]);
  if (y.shape.length > 2) y = L.Flatten().call(y);
  const out = L.Dense({ units: 1, trainable: false }).call(y);
  const model = new Model({ inputs: isList(shape) ? inputs : inputs[0], outputs: out }).build(1);
  model.compile({ optimizer: SGD({ learning_rate: 0.05 }), loss: 'mse' });
  const xs = inputsFor(name, shape, BATCH);
  const target = tf.tensor2d(values(5, BATCH, -1, 1), [BATCH, 1]);
  try {
    // trainOnBatch reports the loss before its update: STEPS + 1 calls give the loss after STEPS steps.
    return Array.from({ length: STEPS + 1 }, () => model.trainOnBatch(isList(shape) ? xs : xs[0], target).loss);
  } finally {
    tf.dispose([...xs, target]);
    model.dispose();
  }
}

async function trainsOnBothBackends(name: string, shape: Shapes): Promise<string> {
  const curves: Record<string, number[]> = {};
  for (const backend of ['wasm', 'cpu'] as const) {
    const losses = await onBackend(backend, () => lossCurve(name, shape));
    assert.ok(losses.every(Number.isFinite), `${backend} ${name}: losses ${losses.join(', ')}`);
    assert.ok(losses[STEPS] < losses[0], `${backend} ${name}: loss did not decrease: ${losses.join(', ')}`);
    curves[backend] = losses;
  }
  curves.wasm.forEach((l, i) => assert.ok(Math.abs(l - curves.cpu[i]) <= 1e-3 * Math.abs(curves.cpu[i]) + 1e-6, `${name} step ${i}: wasm loss ${l} vs cpu ${curves.cpu[i]}`));
  return `loss ${curves.wasm[0].toPrecision(4)} -> ${curves.wasm[STEPS].toPrecision(4)}`;
}

// Layers without trainable weights have nothing to train; the list of those that do is checked against the expected one.
const trainable = trainableClasses();

test('every layer expected to have trainable weights has them', () => {
  assert.deepEqual(EXPECTED_TRAINABLE.filter((name) => !trainable.includes(name)), []);
});

for (const name of trainable) {
  test(`${name} trains on wasm and cpu (loss decreases in ${STEPS} SGD steps; the backends agree)`, async (t) => {
    t.diagnostic(await trainsOnBothBackends(name, inputShapeOf(name)));
  });
}
