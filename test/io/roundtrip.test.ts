import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as ops from '../../src/ops/index.js';
import { Dense, Input } from '../../src/layers/index.js';
import { Model } from '../../src/models/model.js';
import { Sequential } from '../../src/models/sequential.js';
import {
  loadModel,
  loadWeights,
  modelFromJSON,
  modelFromYAML,
  saveModel,
  saveWeights,
  toJSON,
  toYAML,
  withH5Read,
  withH5Write,
  writeStringListAttr,
  readStringListAttr,
} from '../../src/models/io.js';
import type { TrainingSetup } from '../../src/training/types.js';
import { FIXTURES } from './helpers.js';
import { PYTHON, needsPython } from '../helpers/python.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-io-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** Two inputs, a shared Dense, a nested Sequential, two outputs. */
function functionalModel(): Model {
  const a = Input({ shape: [4], name: 'in_a' });
  const b = Input({ shape: [4], name: 'in_b' });
  const shared = Dense({ units: 3, name: 'shared', activation: 'tanh' });
  const inner = new Sequential({ name: 'inner', layers: [Dense({ units: 5, name: 'inner_dense', input_shape: [3], activation: 'relu' }), Dense({ units: 2, name: 'inner_out' })] });
  const ha = shared.call(a);
  const hb = shared.call(b);
  const out1 = inner.call(ha);
  const out2 = Dense({ units: 1, name: 'head' }).call(hb);
  return new Model({ inputs: [a, b], outputs: [out1, out2], name: 'two_towers' });
}

function weightsOf(m: Model): number[][] {
  const w = m.getWeights();
  const out = w.map((t) => Array.from(t.dataSync()));
  ops.dispose(w);
  return out;
}

const xa = () => ops.tensor([[0.1, -0.2, 0.3, 0.4], [1, 2, -1, 0.5]]);
const xb = () => ops.tensor([[0.5, 0.2, -0.3, 0.1], [-1, 0, 1, 2]]);

test('functional JSON round trip: several inputs and outputs, a shared layer, a nested model', () => {
  const m = functionalModel().build(3);
  const json = toJSON(m);
  const parsed = JSON.parse(json);
  assert.equal(parsed.class_name, 'Model');
  assert.equal(parsed.backend, 'tensorflow');
  assert.match(parsed.keras_version, /^2\./);
  const shared = parsed.config.layers.find((l: { name: string }) => l.name === 'shared');
  assert.deepEqual(shared.inbound_nodes, [[['in_a', 0, 0, {}]], [['in_b', 0, 0, {}]]]);
  const head = parsed.config.layers.find((l: { name: string }) => l.name === 'head');
  assert.deepEqual(head.inbound_nodes, [[['shared', 1, 0, {}]]]);
  assert.deepEqual(parsed.config.output_layers, [['inner', 0, 0], ['head', 0, 0]]);

  const back = modelFromJSON(json);
  assert.deepEqual(back.layers.map((l) => l.name), m.layers.map((l) => l.name));
  assert.equal(toJSON(back), json, 'to_json of the loaded model is the same text');
  back.build(0);
  back.setWeights(m.getWeights());
  const [p1, p2] = m.predict([xa(), xb()]) as ops.Tensor[];
  const [q1, q2] = back.predict([xa(), xb()]) as ops.Tensor[];
  assert.deepEqual(Array.from(q1.dataSync()), Array.from(p1.dataSync()));
  assert.deepEqual(Array.from(q2.dataSync()), Array.from(p2.dataSync()));
});

test('YAML round trip, and Keras 2.x YAML tags', () => {
  const m = functionalModel();
  const back = modelFromYAML(toYAML(m));
  assert.equal(toJSON(back), toJSON(m));
  const seq = modelFromYAML(toYAML(new Sequential({ name: 's', layers: [Dense({ units: 2, input_shape: [3], name: 'd' })] })));
  assert.equal(seq.className, 'Sequential');
  assert.deepEqual((seq as Sequential).inputShape, [null, 3]);
});

test('Keras 1.2 Sequential (bare list of layers, Keras 1 argument names) and Keras 1 functional nodes', () => {
  const k1 = {
    class_name: 'Sequential',
    keras_version: '1.2.2',
    config: [
      { class_name: 'Dense', config: { name: 'dense_1', output_dim: 8, init: 'glorot_uniform', activation: 'relu', W_regularizer: null, b_regularizer: null, bias: true, input_dim: 4, batch_input_shape: [null, 4], input_dtype: 'float32', trainable: true } },
      { class_name: 'Dropout', config: { name: 'dropout_1', p: 0.5, trainable: true } },
      { class_name: 'Dense', config: { name: 'dense_2', output_dim: 2, init: 'glorot_uniform', activation: 'softmax', bias: false, input_dim: null, trainable: true } },
    ],
  };
  const m = modelFromJSON(JSON.stringify(k1)).build(0);
  assert.deepEqual(m.layers.map((l) => [l.className, l.config.units ?? l.config.rate]), [['Dense', 8], ['Dropout', 0.5], ['Dense', 2]]);
  assert.equal(m.countParams().total, 4 * 8 + 8 + 8 * 2);
  const f1 = {
    class_name: 'Model',
    config: {
      name: 'model_1',
      layers: [
        { name: 'input_1', class_name: 'InputLayer', config: { batch_input_shape: [null, 3], name: 'input_1', input_dtype: 'float32', sparse: false }, inbound_nodes: [] },
        { name: 'dense_1', class_name: 'Dense', config: { name: 'dense_1', output_dim: 2, trainable: true }, inbound_nodes: [[['input_1', 0, 0]]] },
      ],
      input_layers: [['input_1', 0, 0]],
      output_layers: [['dense_1', 0, 0]],
    },
  };
  assert.equal(modelFromJSON(f1).build(0).countParams().total, 8);
});

test('functional configs whose nodes refer forward are rebuilt in dependency order', () => {
  const json = JSON.parse(toJSON(functionalModel()));
  json.config.layers.reverse();
  const m = modelFromJSON(json);
  assert.deepEqual(m.outputNames, ['inner', 'head']);
});

test('saveWeights / loadWeights round trip, in Keras layout (names checked by h5py where available)', async () => {
  const m = functionalModel().build(5);
  const file = path.join(tmp, 'w.h5');
  await saveWeights(m, file);
  const names = await withH5Read(file, (f) => ({
    layers: readStringListAttr(f, f, 'layer_names'),
    inner: readStringListAttr(f, f.get('inner') as never, 'weight_names'),
    shared: readStringListAttr(f, f.get('shared') as never, 'weight_names'),
    inA: readStringListAttr(f, f.get('in_a') as never, 'weight_names'),
    kernel: (f.get('shared/shared/kernel:0') as unknown as { shape: number[] }).shape,
    nested: (f.get('inner/inner_dense/kernel:0') as unknown as { shape: number[] }).shape,
  }));
  assert.deepEqual(names.layers, m.layers.map((l) => l.name));
  assert.deepEqual(names.shared, ['shared/kernel:0', 'shared/bias:0']);
  assert.deepEqual(names.inner, ['inner_dense/kernel:0', 'inner_dense/bias:0', 'inner_out/kernel:0', 'inner_out/bias:0']);
  assert.deepEqual(names.inA, []);
  assert.deepEqual(names.kernel, [4, 3]);
  assert.deepEqual(names.nested, [3, 5]);

  const fresh = functionalModel(); // unbuilt: loadWeights builds it
  await loadWeights(fresh, file);
  assert.deepEqual(weightsOf(fresh), weightsOf(m));
  const byName = functionalModel().build(9);
  await loadWeights(byName, file, { byName: true });
  assert.deepEqual(weightsOf(byName), weightsOf(m));
});

/** The layout of an .h5 file as h5py sees it: groups, data sets (shape, dtype kind) and attributes (decoded). */
function h5pyLayout(file: string): Record<string, unknown> {
  const script = `
import h5py, json, sys
def attr(v):
    if hasattr(v, 'tolist'): v = v.tolist()
    if isinstance(v, bytes): return v.decode('utf8')
    if isinstance(v, list): return [attr(x) for x in v]
    return v
out = {}
def visit(name, obj):
    key = '/' + name
    if isinstance(obj, h5py.Dataset): out[key] = {'shape': list(obj.shape), 'kind': obj.dtype.kind}
    else: out[key] = 'group'
    for k, v in obj.attrs.items():
        v = attr(v)
        if k in ('model_config', 'training_config'): v = sorted(json.loads(v).keys())
        if k in ('keras_version',): v = 'version'
        out[key + '@' + k] = v
f = h5py.File(sys.argv[1], 'r')
visit('', f)
f.visititems(visit)
print(json.dumps(out, sort_keys=True))
`;
  return JSON.parse(execFileSync(PYTHON, ['-c', script, file], { encoding: 'utf8' }));
}

test('a whole model rxkeras writes has the groups, data sets and attributes of the Keras file (h5py)', { skip: needsPython('h5py') }, async () => {
  const keras = `${FIXTURES}kotlindl/mnist.h5`;
  const model = await loadModel(keras);
  const x = ops.randomUniform([8, 28, 28], 0, 1, 'float32', 1);
  const y = ops.tensor([0, 1, 2, 3, 4, 5, 6, 7]);
  model.trainOnBatch(x, y); // the optimizer state exists and advances
  const ours = path.join(tmp, 'mnist-rx.h5');
  await saveModel(model, ours);
  const a = h5pyLayout(keras);
  const b = h5pyLayout(ours);
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
  for (const k of Object.keys(a)) if (!k.endsWith('Adam/iter:0')) assert.deepEqual(b[k], a[k], k);
  assert.deepEqual(b['/optimizer_weights/Adam/iter:0'], a['/optimizer_weights/Adam/iter:0']);
});

test('saveModel / loadModel: training resumes exactly (N steps, save, load, M steps == N + M steps)', async () => {
  const make = () => {
    const m = new Sequential({ name: 'resume', layers: [Dense({ units: 6, input_shape: [4], activation: 'tanh', name: 'h' }), Dense({ units: 3, activation: 'softmax', name: 'o' })] });
    m.build(11);
    m.compile({ optimizer: { class_name: 'Adam', config: { learning_rate: 0.01 } }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] }, 1);
    return m;
  };
  const x = ops.tensor([[0.1, 0.2, 0.3, 0.4], [1, -1, 0.5, 0], [0, 0, 1, 1], [2, 1, 0, -1]]);
  const y = ops.tensor([0, 1, 2, 1]);
  const control = make();
  const resumed = make();
  for (let i = 0; i < 3; i++) {
    control.trainOnBatch(x, y);
    resumed.trainOnBatch(x, y);
  }
  const file = path.join(tmp, 'resume.h5');
  await saveModel(resumed, file);
  const loaded = await loadModel(file);
  const setup = loaded.compiled as TrainingSetup;
  assert.equal(setup.compiled.optimizer.className, 'Adam');
  assert.equal(setup.step, 3);
  const tc = await withH5Read(file, (f) => JSON.parse(f.attrs['training_config'].value as string));
  assert.equal(tc.loss, 'sparse_categorical_crossentropy');
  assert.deepEqual(tc.metrics, ['accuracy']);
  assert.equal(tc.optimizer_config.class_name, 'Adam');
  for (let i = 0; i < 2; i++) {
    control.trainOnBatch(x, y);
    loaded.trainOnBatch(x, y);
  }
  assert.deepEqual(weightsOf(loaded), weightsOf(control), 'bit for bit');
});

test('a file without training_config loads uncompiled', async () => {
  const m = new Sequential({ name: 'plain', layers: [Dense({ units: 2, input_shape: [3], name: 'd' })] }).build(0);
  const file = path.join(tmp, 'plain.h5');
  await saveModel(m, file);
  const back = await loadModel(file);
  assert.equal(back.compiled, undefined);
  assert.deepEqual(weightsOf(back), weightsOf(m));
  const attrs = await withH5Read(file, (f) => Object.keys(f.attrs).sort());
  assert.deepEqual(attrs, ['backend', 'keras_version', 'model_config']);
});

test('saves are atomic: a failed save leaves the previous file intact, and no temporary file', async () => {
  const m = new Sequential({ name: 'atomic', layers: [Dense({ units: 2, input_shape: [3], name: 'd' })] }).build(0);
  const file = path.join(tmp, 'atomic.h5');
  await saveModel(m, file);
  const before = fs.readFileSync(file);
  const broken = new Sequential({ name: 'broken', layers: [Dense({ units: 2, input_shape: [3], name: 'x'.repeat(70000) })] }).build(0);
  await assert.rejects(saveWeights(broken, file), (e: Error) => e.name === 'Hdf5FormatError');
  assert.deepEqual(fs.readFileSync(file), before);
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-')), []);
});

test('layer_names past 64 KB are split into layer_names0, layer_names1, ... and read back', async () => {
  const names = Array.from({ length: 3000 }, (_, i) => `a_rather_long_layer_name_number_${i}`);
  const file = path.join(tmp, 'split.h5');
  await withH5Write(file, (f) => writeStringListAttr(f, 'layer_names', names));
  const { keys, back } = await withH5Read(file, (f) => ({ keys: Object.keys(f.attrs).sort(), back: readStringListAttr(f, f, 'layer_names') }));
  assert.deepEqual(keys, ['layer_names0', 'layer_names1']);
  assert.deepEqual(back, names);
});

test('byName + skipMismatch: a layer whose shapes differ is skipped with a warning naming it; the others load', async () => {
  const m = new Sequential({ name: 's', layers: [Dense({ units: 31, input_shape: [16], name: 'dense' }), Dense({ units: 2, name: 'other' })] }).build(0);
  const before = weightsOf(m);
  const warnings: string[] = [];
  await loadWeights(m, `${FIXTURES}dl4j/activations/ELU_0_weights.h5`, { byName: true, skipMismatch: true, onWarning: (w) => warnings.push(w) });
  assert.deepEqual(weightsOf(m), before);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /layer 'dense', weight 'dense\/kernel:0'.*expected shape \[16,31\], the file has \[16,32\]/);
  await assert.rejects(loadWeights(m, `${FIXTURES}dl4j/activations/ELU_0_weights.h5`, { byName: true }), (e: Error) => e.name === 'ShapeMismatchError');
});

test('the Keras methods on Model: toJSON, toYAML, save, saveWeights and loadWeights', async () => {
  const model = new Sequential({ layers: [Dense({ units: 2, input_shape: [3] })] }).build(3);
  model.compile({ optimizer: 'adam', loss: 'mse' });
  assert.equal(model.toJSON(), toJSON(model));
  assert.deepEqual(modelFromYAML(model.toYAML()).getConfig(), model.getConfig());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-methods-'));
  await model.save(path.join(dir, 'm.h5'));
  const loaded = await loadModel(path.join(dir, 'm.h5'));
  await model.saveWeights(path.join(dir, 'w.h5'));
  const fresh = new Sequential({ layers: [Dense({ units: 2, input_shape: [3] })] }).build(9);
  await fresh.loadWeights(path.join(dir, 'w.h5'));
  for (const other of [loaded, fresh]) {
    const a = model.getWeights();
    const b = other.getWeights();
    a.forEach((w, i) => assert.deepEqual(Array.from(w.dataSync()), Array.from(b[i].dataSync())));
    ops.dispose([...a, ...b]);
  }
  model.dispose();
  loaded.dispose();
  fresh.dispose();
});
