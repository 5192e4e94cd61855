import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as ops from '../../src/ops/index.js';
import { loadModel, loadWeights, modelFromJSON, modelFromYAML, withH5Read } from '../../src/models/io.js';
import type { Model } from '../../src/models/model.js';
import type { TrainingSetup } from '../../src/training/types.js';
import { FIXTURES, assertClose, readInputsAndPredictions } from './helpers.js';

const dl4j = `${FIXTURES}dl4j/`;

async function checkPredictions(model: Model, ioFile: string): Promise<void> {
  const { x, y } = await readInputsAndPredictions(ioFile);
  const out = model.predict(x.length === 1 ? x[0] : x);
  const outs = Array.isArray(out) ? out : [out];
  assert.equal(outs.length, y.length);
  outs.forEach((o, i) => assertClose(o, y[i], 1e-4, `output ${i}`));
  ops.dispose([...x, ...y, ...outs]);
}

const cases: { dir: string; base: string }[] = [
  ...fs
    .readdirSync(`${dl4j}activations`)
    .filter((f) => f.endsWith('_model.h5'))
    .map((f) => ({ dir: `${dl4j}activations/`, base: f.replace(/_model\.h5$/, '') })),
  { dir: `${dl4j}simple_sparse_xent/`, base: 'simple_sparse_xent_mlp_keras_2' },
  ...fs
    .readdirSync(`${dl4j}conv1d`)
    .filter((f) => f.endsWith('_model.h5'))
    .map((f) => ({ dir: `${dl4j}conv1d/`, base: f.replace(/_model\.h5$/, '') })),
  { dir: `${dl4j}simple_rnn/`, base: 'simple_rnn_tf_keras_2' },
];

for (const c of cases) {
  test(`${c.base}: whole model (_model.h5) reproduces the recorded predictions within 1e-4`, async () => {
    const model = await loadModel(`${c.dir}${c.base}_model.h5`);
    const setup = model.compiled as TrainingSetup;
    assert.ok(setup, 'the file has a training_config, so the model is compiled');
    assert.equal(setup.compiled.optimizer.className, 'RMSprop');
    await checkPredictions(model, `${c.dir}${c.base}_inputs_and_outputs.h5`);
    model.dispose();
  });
  test(`${c.base}: _config.json + _weights.h5 reproduce the recorded predictions within 1e-4`, async () => {
    const model = modelFromJSON(fs.readFileSync(`${c.dir}${c.base}_config.json`, 'utf8'));
    assert.equal(model.compiled, undefined);
    await loadWeights(model, `${c.dir}${c.base}_weights.h5`);
    await checkPredictions(model, `${c.dir}${c.base}_inputs_and_outputs.h5`);
    // by name gives the same model here (the names agree)
    await loadWeights(model, `${c.dir}${c.base}_weights.h5`, { byName: true });
    await checkPredictions(model, `${c.dir}${c.base}_inputs_and_outputs.h5`);
    model.dispose();
  });
}

/** Params, by layer: counts from the architectures (Keras's summary). */
function countParams(model: Model): number {
  return model.build(0).countParams().total;
}

test('kotlindl/lenet: model_full.json does not match lenet_weights_only.h5: a typed error naming layer, weight and shapes; nothing changes', async () => {
  // model_full.json (strides 2 then a stride-1 pool) flattens to 6*6*64 = 2304; the weights file was saved from a
  // LeNet that flattens to 7*7*64 = 3136. Keras refuses this pair too.
  const model = modelFromJSON(fs.readFileSync(`${FIXTURES}kotlindl/model_full.json`, 'utf8'));
  assert.equal(model.layers.length, 8);
  model.build(1);
  const before = model.getWeights().map((t) => Array.from(t.dataSync()));
  await assert.rejects(loadWeights(model, `${FIXTURES}kotlindl/lenet_weights_only.h5`), (e: Error) => {
    assert.equal(e.name, 'ShapeMismatchError');
    assert.match(e.message, /layer 'dense_\d+', weight 'dense_\d+\/kernel:0' \(file: 'dense_12\/dense_12\/kernel:0'\)/);
    assert.match(e.message, /expected shape \[2304, 256\], got \[3136, 256\]/);
    return true;
  });
  assert.deepEqual(model.getWeights().map((t) => Array.from(t.dataSync())), before, 'a failed load changes nothing');
  model.dispose();
});

test('kotlindl/lenet: lenet_weights_only.h5 loads in topological order into the LeNet it was saved from (other layer names)', async () => {
  const json = JSON.parse(fs.readFileSync(`${FIXTURES}kotlindl/model_full.json`, 'utf8'));
  json.config.layers[0].config.strides = [1, 1]; // 28 -> 28
  json.config.layers[1].config.strides = [2, 2]; // -> 14 -> conv -> 14 -> pool -> 7: 7*7*64 = 3136, as in the file
  const model = modelFromJSON(json);
  await loadWeights(model, `${FIXTURES}kotlindl/lenet_weights_only.h5`);
  assert.equal(model.countParams().total, 320 + 18496 + 803072 + 21588 + 850);
  const w = model.getWeights();
  const fromFile = await withH5Read(`${FIXTURES}kotlindl/lenet_weights_only.h5`, (f) => ({
    convKernel: (f.get('conv2d_8/conv2d_8/kernel:0') as unknown as { value: Float32Array }).value,
    lastBias: (f.get('dense_14/dense_14/bias:0') as unknown as { value: Float32Array }).value,
  }));
  assert.deepEqual(Array.from(w[0].dataSync()), Array.from(fromFile.convKernel));
  assert.deepEqual(Array.from(w[w.length - 1].dataSync()), Array.from(fromFile.lastBias));
  // by name nothing matches (conv2d_16 in the config, conv2d_8 in the file): the weights stay as they were
  await loadWeights(model, `${FIXTURES}kotlindl/lenet_weights_only.h5`, { byName: true });
  assert.deepEqual(Array.from(model.getWeights()[0].dataSync()), Array.from(fromFile.convKernel));
  const out = model.predict(ops.zeros([2, 28, 28, 1])) as ops.Tensor;
  assert.deepEqual(out.shape, [2, 10]);
  const row = out.dataSync().slice(0, 10);
  assert.ok(row.every((v) => Number.isFinite(v)));
  assert.notDeepEqual(Array.from(row), new Array(10).fill(0));
  ops.dispose([...w, out]);
  model.dispose();
});

test('kotlindl/mnist.h5: whole model with Adam training_config and optimizer_weights', async () => {
  const model = await loadModel(`${FIXTURES}kotlindl/mnist.h5`);
  assert.deepEqual(
    model.layers.map((l) => l.name),
    ['flatten_3', 'dense_6', 'dense_7'],
  );
  assert.equal(model.countParams().total, 784 * 128 + 128 + 128 * 10 + 10);
  const setup = model.compiled as TrainingSetup;
  assert.equal(setup.compiled.optimizer.className, 'Adam');
  const opt = setup.compiled.optimizer;
  const weights = opt.weights(setup.optState as never, [
    ['dense_6/kernel', 'dense_6/kernel'],
    ['dense_6/bias', 'dense_6/bias'],
    ['dense_7/kernel', 'dense_7/kernel'],
    ['dense_7/bias', 'dense_7/bias'],
  ]);
  assert.deepEqual(
    weights.map(([n]) => n),
    ['Adam/iter:0', 'Adam/dense_6/kernel/m:0', 'Adam/dense_6/bias/m:0', 'Adam/dense_7/kernel/m:0', 'Adam/dense_7/bias/m:0',
      'Adam/dense_6/kernel/v:0', 'Adam/dense_6/bias/v:0', 'Adam/dense_7/kernel/v:0', 'Adam/dense_7/bias/v:0'],
  );
  const file = await withH5Read(`${FIXTURES}kotlindl/mnist.h5`, (f) => ({
    iter: Number((f.get('optimizer_weights/Adam/iter:0') as unknown as { value: bigint }).value),
    v: (f.get('optimizer_weights/Adam/dense_7/bias/v:0') as unknown as { value: Float32Array }).value,
  }));
  assert.ok(file.iter > 0);
  assert.equal(weights[0][1].dataSync()[0], file.iter);
  assert.deepEqual(Array.from(weights[8][1].dataSync()), Array.from(file.v));
  assert.equal(setup.step, file.iter);
  ops.dispose(weights.map(([, t]) => t));
  model.dispose();
});

test('yaml/cnn_demo_model.yaml (!!python/tuple, anchors, bare layer list) + weights', async () => {
  const model = modelFromYAML(fs.readFileSync(`${FIXTURES}yaml/cnn_demo_model.yaml`, 'utf8'));
  assert.deepEqual(
    model.layers.map((l) => l.className),
    ['Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense'],
  );
  assert.deepEqual(model.layers[1].config.strides, [2, 2]);
  await loadWeights(model, `${FIXTURES}yaml/cnn_demo_model_weights.h5`);
  assert.equal(model.countParams().total, 320 + 5408 * 128 + 128 + 1290);
  const out = model.predict(ops.ones([1, 28, 28, 1])) as ops.Tensor;
  assert.deepEqual(out.shape, [1, 10]);
  assert.ok(Math.abs(ops.sum(out).dataSync()[0] - 1) < 1e-5);
  ops.dispose(out);
  model.dispose();
});

test('dl4j/configs: tf.keras 2 MLP and CNN architectures load (layer and param counts)', () => {
  const mlp = modelFromJSON(fs.readFileSync(`${dl4j}configs/mnist_mlp_tf_keras_2_config.json`, 'utf8'));
  const cnn = modelFromJSON(fs.readFileSync(`${dl4j}configs/mnist_cnn_tf_keras_2_config.json`, 'utf8'));
  assert.deepEqual([mlp.layers.length, countParams(mlp)], [5, 669706]);
  assert.deepEqual([cnn.layers.length, countParams(cnn)], [8, 1199882]);
  mlp.dispose();
  cnn.dispose();
});

test('keras2c/example_model.h5 (LSTM)', async () => {
  const model = await loadModel(`${FIXTURES}keras2c/example_model.h5`);
  assert.ok(model.compiled);
});
