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
import { leaves, type TensorTree } from '../../src/core/tree.js';
import * as L from '../../src/layers/index.js';
import { Input } from '../../src/layers/input-layer.js';
import type { Layer, Shape, Shapes } from '../../src/layers/layer.js';
import { knownLayers, layerFromConfig } from '../../src/layers/registry.js';
import { Model } from '../../src/models/model.js';
import { SGD } from '../../src/optimizers/index.js';
import { minimal } from '../helpers/minimal-configs.js';



const TWO_INPUTS = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot', 'Attention', 'AdditiveAttention', 'MultiHeadAttention']);

/** Input shape(s) by class: the data rank its name says (1D, 2D, 3D), else a sequence. */
function inputShapeOf(name: string): Shapes {
  if (TWO_INPUTS.has(name)) return [[null, 4, 3], [null, 4, 3]];
  if (name === 'Embedding') return [null, 5];
  if (name === 'RepeatVector') return [null, 4];
  if (name === 'ConvLSTM2D') return [null, 3, 5, 5, 2];
  const rank = /([123])D(Transpose)?$/.exec(name)?.[1];
  if (rank === '1') return [null, 6, 3];
  if (rank === '2') return [null, 6, 6, 2];
  if (rank === '3') return [null, 5, 5, 5, 2];
  return [null, 4, 3];
}

/** Classes with trainable weights in their minimal config: the detection below must find at least these. */
const EXPECTED_TRAINABLE = [
  'AdditiveAttention', 'BatchNormalization', 'Bidirectional', 'Conv1D', 'Conv2D', 'Conv2DTranspose', 'Conv3D', 'Conv3DTranspose',
  'ConvLSTM2D', 'Dense', 'DepthwiseConv2D', 'Embedding', 'GRU', 'LSTM', 'LayerNormalization', 'LocallyConnected1D',
  'LocallyConnected2D', 'MultiHeadAttention', 'PReLU', 'SeparableConv1D', 'SeparableConv2D', 'SimpleRNN', 'TimeDistributed',
  'RNN',
];

const BATCH = 8;
const STEPS = 5;

/** Deterministic values in [lo, hi), identical on both backends. */
function values(seed: number, n: number, lo: number, hi: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return lo + ((s >>> 0) / 2 ** 32) * (hi - lo);
  });
}

const isList = (s: Shapes): s is Shape[] => s.length > 0 && Array.isArray(s[0]);
// Aliases (Convolution2D, SeparableConvolution1D, ...) take their class's config.
const configOf = (name: string) => minimal[name] ?? minimal[name.replace('Convolution', 'Conv')] ?? {};
const make = (name: string): Layer => layerFromConfig({ class_name: name, config: { ...configOf(name), name: `under_test_${name.toLowerCase()}` } });

/** Each Keras class once (aliases build the same class); InputLayer is no layer to call. */
const classes = knownLayers().filter((name) => name !== 'InputLayer' && make(name).className === name);

function trainableSize(name: string, shape: Shapes): number {
  const { params, state } = make(name).init(1, shape);
  const size = leaves(params as TensorTree).reduce((n, [, t]) => n + t.size, 0);
  tf.dispose([...leaves(params as TensorTree), ...leaves(state as TensorTree)].map(([, t]) => t));
  return size;
}

/** The loss before each of STEPS SGD steps and after the last. */
function lossCurve(name: string, shape: Shapes): number[] {
  const shapes = isList(shape) ? shape : [shape];
  const inputs = shapes.map((s) => Input({ batch_input_shape: s }));
  let y = make(name).call(isList(shape) ? inputs : inputs[0]);
  if (y.shape.length > 2) y = L.Flatten().call(y);
  const out = L.Dense({ units: 1, trainable: false }).call(y);
  const model = new Model({ inputs: isList(shape) ? inputs : inputs[0], outputs: out }).build(1);
  model.compile({ optimizer: SGD({ learning_rate: 0.05 }), loss: 'mse' });
  const xs = shapes.map((s, i) => {
    const concrete = s.map((d) => d ?? BATCH);
    const n = tf.util.sizeFromShape(concrete);
    return name === 'Embedding' ? tf.tensor(values(11 + i, n, 0, 4).map(Math.floor), concrete, 'int32') : tf.tensor(values(11 + i, n, -1, 1), concrete);
  });
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
const trainable = classes.filter((name) => trainableSize(name, inputShapeOf(name)) > 0);

test('every layer expected to have trainable weights has them', () => {
  assert.deepEqual(EXPECTED_TRAINABLE.filter((name) => !trainable.includes(name)), []);
});

for (const name of trainable) {
  test(`${name} trains on wasm and cpu (loss decreases in ${STEPS} SGD steps; the backends agree)`, async (t) => {
    t.diagnostic(await trainsOnBothBackends(name, inputShapeOf(name)));
  });
}
