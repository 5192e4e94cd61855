import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ops from '../../src/ops/index.js';
import { ShapeMismatchError } from '../../src/core/errors.js';
import { loadModel, loadWeights, modelFromJSON, modelSlots, recurrentRules, saveWeights, withH5Read } from '../../src/models/io.js';
import { getGroup, readArray } from '../../src/core/hdf5.js';
import type { Model } from '../../src/models/model.js';
import type { TrainingSetup } from '../../src/training/types.js';
import { FIXTURES, assertClose, readInputsAndPredictions } from './helpers.js';

// Real files written by Keras 1.2.2, Keras 2.0-2.1 (TensorFlow and Theano backends) and tf.keras; see test/fixtures/keras/README.md.
const dl4j = `${FIXTURES}dl4j/`;
const lwtnn = `${FIXTURES}lwtnn/`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-keras-rules-'));

async function load(file: string): Promise<{ model: Model; warnings: string[] }> {
  const warnings: string[] = [];
  const model = await loadModel(file, { onWarning: (w) => warnings.push(w) });
  return { model, warnings };
}

/** A model's weights in Keras's order, as plain arrays. */
function weightValues(model: Model): number[][] {
  return modelSlots(model, model.build().variables!).flatMap((l) => l.slots.map((s) => Array.from(s.tensor.dataSync())));
}

/** saveWeights then loadWeights into a fresh model from the same config: every value comes back bit for bit. */
async function assertWeightsRoundTrip(model: Model, name: string): Promise<void> {
  const file = path.join(tmp, `${name}.h5`);
  await saveWeights(model, file);
  const copy = modelFromJSON(model.toJSON());
  await loadWeights(copy, file);
  assert.deepEqual(weightValues(copy), weightValues(model), `${name}: weights round trip`);
  copy.dispose();
}

/** The file's arrays of one layer, by weight name. */
function rawArrays(file: string, layer: string, names: string[]): Promise<{ shape: number[]; data: Float32Array }[]> {
  return withH5Read(file, (f) => {
    const g = getGroup(f, getGroup(f, f, 'model_weights'), layer);
    return names.map((n) => {
      const a = readArray(f, g, n);
      return { shape: a.shape, data: Float32Array.from(a.data) };
    });
  });
}

/** Concatenates per-gate (rows, units) or (units) arrays along the last axis, by hand. */
function concatGates(parts: { shape: number[]; data: Float32Array }[]): number[] {
  const units = parts[0].shape[parts[0].shape.length - 1];
  const rows = parts[0].data.length / units;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) for (const p of parts) out.push(...p.data.slice(r * units, (r + 1) * units));
  return out;
}

for (const backend of ['tf', 'th']) {
  test(`Keras 1.2 LSTM (${backend} backend): model.h5 with 12 per-gate arrays reproduces the recorded predictions within 1e-4`, async () => {
    const base = `${dl4j}simple_lstm/simple_lstm_${backend}_keras_1`;
    const { model, warnings } = await load(`${base}_model.h5`);
    const lstm = model.layers[0].getConfig() as Record<string, unknown>;
    assert.equal(lstm.units, 50);
    assert.equal(lstm.recurrent_activation, 'hard_sigmoid', 'inner_activation');
    assert.equal(lstm.implementation, 1, "consume_less 'cpu' is implementation 0, read as 1");
    assert.equal(lstm.dropout, 0.2, 'dropout_W');
    assert.equal(model.countParams().total, 4 * (1 * 50 + 50 * 50 + 50) + 51);
    // The Keras 1 RMSprop state (14 arrays, one per Keras 1 weight) does not fit: one warning, a fresh optimizer state.
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /optimizer_weights: 14 arrays.*RMSprop.*fresh optimizer state/);
    assert.equal((model.compiled as TrainingSetup).optState, undefined);
    const { x, y } = await readInputsAndPredictions(`${base}_inputs_and_outputs.h5`);
    const out = model.predict(x[0]) as ops.Tensor;
    assertClose(out, y[0], 1e-4, 'dense_1');
    await assertWeightsRoundTrip(model, `lstm-${backend}`);
    ops.dispose([...x, ...y, out]);
    model.dispose();
  });
}

test('Keras 1.2 LSTM: to_json() config + save_weights() file (no keras_version attribute) reproduce the predictions', async () => {
  const base = `${dl4j}simple_lstm/simple_lstm_tf_keras_1`;
  const model = modelFromJSON(fs.readFileSync(`${base}_config.json`, 'utf8'));
  await loadWeights(model, `${base}_weights.h5`);
  const { x, y } = await readInputsAndPredictions(`${base}_inputs_and_outputs.h5`);
  const out = model.predict(x[0]) as ops.Tensor;
  assertClose(out, y[0], 1e-4, 'dense_1');
  ops.dispose([...x, ...y, out]);
  model.dispose();
});

test('Keras 1.2 LSTM: the kernel is W_i, W_f, W_c, W_o concatenated (Keras 2 gate order), the bias likewise', async () => {
  const file = `${dl4j}weights/lstm_theano_1.h5`;
  const { model } = await load(file);
  const gates = ['i', 'f', 'c', 'o'];
  for (const [k, prefix] of [['kernel', 'W'], ['recurrent_kernel', 'U'], ['bias', 'b']]) {
    const parts = await rawArrays(file, 'lstm_1', gates.map((g) => `lstm_1_${prefix}_${g}`));
    const loaded = (model.variables!.params.lstm_1 as Record<string, ops.Tensor>)[k];
    assert.deepEqual(Array.from(loaded.dataSync()), concatGates(parts), k);
  }
  model.dispose();
});

for (const backend of ['tensorflow', 'theano']) {
  test(`Keras 1.2 Bidirectional(LSTM) (${backend}): the Keras 1 names reach the inner LSTM; 24 arrays split forward / backward`, async () => {
    const file = `${dl4j}weights/bidirectional_lstm_${backend}_1.h5`;
    const { model } = await load(file);
    const inner = (model.layers[0].getConfig() as unknown as { layer: { config: Record<string, unknown> } }).layer.config;
    assert.equal(inner.units, 10);
    assert.equal(inner.recurrent_activation, 'hard_sigmoid');
    assert.equal(model.countParams().total, 2 * 4 * (10 * 10 + 10 * 10 + 10));
    const names = await withH5Read(file, (f) => (getGroup(f, f, 'model_weights/bidirectional_1').attrs.weight_names.value as string[]).map(String));
    assert.equal(names.length, 24);
    const back = await rawArrays(file, 'bidirectional_1', [12, 18, 15, 21].map((i) => names[i])); // backward W_i, W_f, W_c, W_o
    const kernel = (model.variables!.params.bidirectional_1 as Record<string, Record<string, ops.Tensor>>)[`backward_lstm_1`].kernel;
    assert.deepEqual(Array.from(kernel.dataSync()), concatGates(back));
    await assertWeightsRoundTrip(model, `bidirectional-${backend}`);
    model.dispose();
  });
}

test('Keras 1.2 Embedding keeps output_dim (Keras 1 renamed it only for Dense and recurrent layers) and feeds a Keras 1 LSTM', async () => {
  const { model } = await load(`${dl4j}weights/embedding_lstm_tensorflow_1.h5`);
  const emb = model.layers[0].getConfig() as Record<string, unknown>;
  assert.equal(emb.output_dim, 5);
  assert.equal(emb.input_dim, 4);
  assert.equal((emb.embeddings_initializer as { class_name: string }).class_name, 'RandomUniform', "init 'uniform'");
  assert.equal(model.countParams().total, 4 * 5 + 4 * (5 * 6 + 6 * 6 + 6));
  const out = model.predict(ops.tensor([[0, 1, 2, 3, 0, 1, 2, 3, 0, 1]], [1, 10], 'int32')) as ops.Tensor;
  assert.deepEqual(out.shape, [1, 10, 6]);
  await assertWeightsRoundTrip(model, 'embedding-lstm');
  out.dispose();
  model.dispose();
});

test('tf.keras 2.2.4-tf Embedding (output_dim in a Keras 2 config) loads', async () => {
  const { model } = await load(`${dl4j}tfkeras/misc_0.h5`);
  const emb = model.layers.find((l) => l.className === 'Embedding')!;
  assert.equal(emb.getConfig().output_dim, 8);
  assert.equal(emb.getConfig().input_dim, 10);
  await assertWeightsRoundTrip(model, 'tfkeras-embedding');
  model.dispose();
});

test('Keras 1.2 Convolution1D: the (filter_length, 1, input_dim, filters) kernel becomes (filter_length, input_dim, filters)', async () => {
  const file = `${dl4j}weights/embedding_conv1d_theano_1.h5`;
  const { model } = await load(file);
  const [w] = await rawArrays(file, 'convolution1d_1', ['convolution1d_1_W']);
  assert.deepEqual(w.shape, [3, 1, 5, 6]);
  const kernel = (model.variables!.params.convolution1d_1 as Record<string, ops.Tensor>).kernel;
  assert.deepEqual(kernel.shape, [3, 5, 6]);
  // No backend attribute in a Keras 1 file: Keras flips nothing, and neither does rxkeras.
  assert.deepEqual(Array.from(kernel.dataSync()), Array.from(w.data));
  model.dispose();
});

test('Theano kernels are flipped as Keras flips them (backend attribute), TensorFlow and unknown-backend ones are not', async () => {
  // Each file's kernel was set to arange(270).reshape(3, 3, 5, 6) before model.save (weights/scripts/conv2d.py).
  const arange = (i: number) => i;
  const at = (r: number, c: number, i: number, o: number) => ((r * 3 + c) * 5 + i) * 6 + o;
  const expected = (flip: boolean) => {
    const out: number[] = [];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let i = 0; i < 5; i++) for (let o = 0; o < 6; o++) out.push(arange(flip ? at(2 - r, 2 - c, i, o) : at(r, c, i, o)));
    return out;
  };
  for (const [file, flip] of [['conv2d_tensorflow_2.h5', false], ['conv2d_theano_2.h5', true], ['conv2d_theano_1.h5', false]] as const) {
    const { model } = await load(`${dl4j}weights/${file}`);
    const layer = model.layers[0];
    const kernel = (model.variables!.params[layer.name] as Record<string, ops.Tensor>).kernel;
    assert.deepEqual(Array.from(kernel.dataSync()), expected(flip), file);
    model.dispose();
  }
});

test('Keras 2.0 LSTM with implementation 0 loads as implementation 1', async () => {
  const { model } = await load(`${dl4j}simple_lstm/simple_lstm_tf_keras_2_model.h5`);
  assert.equal(model.layers[0].getConfig().implementation, 1);
  assert.equal(model.countParams().total, 4 * (1 * 50 + 50 * 50 + 50) + 51);
  await assertWeightsRoundTrip(model, 'lstm-impl0');
  model.dispose();
});

test('GRU without reset_after: Keras 2.0.3 (standalone) means False; a (3 * units) bias means False, (2, 3 * units) True', async () => {
  const dir = `${lwtnn}gru-sequence/`;
  const arch = JSON.parse(fs.readFileSync(`${dir}gru-seq-arch.json`, 'utf8'));
  assert.equal(arch.keras_version, '2.0.3');
  const model = modelFromJSON(arch);
  const gru = model.layers.find((l) => l.className === 'GRU')!.getConfig();
  assert.equal(gru.reset_after, false);
  assert.equal(gru.implementation, 1);
  await loadWeights(model, `${dir}gru-seq-weights.h5`);
  assert.equal(model.countParams().total, 4 * 4 + 4 + 3 * (4 * 5 + 5 * 5 + 5));
  await assertWeightsRoundTrip(model, 'gru-2.0.3');
  model.dispose();
  // Without the version, tf.keras 2's default (reset_after) does not fit the file, as it would not in tf.keras.
  const { keras_version: _v, ...bare } = arch;
  const unversioned = modelFromJSON(bare);
  await assert.rejects(loadWeights(unversioned, `${dir}gru-seq-weights.h5`), ShapeMismatchError);
  unversioned.dispose();
  // The weights' shapes decide where the file has them.
  assert.equal(recurrentRules('GRU', { units: 5 }, { weightShapes: [[4, 15], [5, 15], [15]] }).reset_after, false);
  assert.equal(recurrentRules('GRU', { units: 5 }, { weightShapes: [[4, 15], [5, 15], [2, 15]], kerasVersion: '2.2.4' }).reset_after, true);
  assert.equal(recurrentRules('GRU', { units: 5 }, { kerasVersion: '2.4.0-tf' }).reset_after, undefined);
  assert.equal(recurrentRules('GRU', { units: 5, reset_after: true }, { kerasVersion: '2.0.3' }).reset_after, true);
});

test('optimizer weights that do not match (tf.keras saved before the first step: only iteration:0) -> one warning, fresh state', async () => {
  const { model, warnings } = await load(`${dl4j}weights/keras-attention.h5`);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /optimizer_weights: 1 arrays, iteration:0\).*Adam.*fresh optimizer state/);
  const setup = model.compiled as TrainingSetup;
  assert.equal(setup.compiled.optimizer.className, 'Adam');
  assert.equal(setup.optState, undefined);
  assert.equal(setup.step, 0);
  model.dispose();
});
