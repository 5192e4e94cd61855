import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import * as ops from '../../src/ops/index.js';
import { loadModel, loadWeights, modelFromJSON, modelFromYAML, modelToConfig } from '../../src/models/io.js';
import { FIXTURES, assertClose, readInputsAndPredictions } from '../io/helpers.js';
import { limiter, oneLine, rxkeras, tempDir, type Run } from './helpers.js';

// Every spawned command loads TensorFlow.js (a second or two): they all start here, a few at a time,
// and the tests below await their results.
const tmp = tempDir('rxkeras-cli-');
const act = `${FIXTURES}dl4j/activations/`;
const xent = `${FIXTURES}dl4j/simple_sparse_xent/simple_sparse_xent_mlp_keras_2`;
const relu = `${act}ReLU_0`;
const reluIO = `${relu}_inputs_and_outputs.h5`;
const xentIO = `${xent}_inputs_and_outputs.h5`;
const out = (name: string) => path.join(tmp, name);

// Bad inputs written for the error paths.
const unknownLayer = out('unknown-layer.json');
const cfg = JSON.parse(fs.readFileSync(`${relu}_config.json`, 'utf8'));
cfg.config.layers[1].class_name = 'NopeLayer';
fs.writeFileSync(unknownLayer, JSON.stringify(cfg));
const garbage = out('garbage.h5');
fs.writeFileSync(garbage, 'not an HDF5 file '.repeat(100));

const pool = limiter(3);
// The cpu backend: these models are tiny, and it starts no worker threads.
const run = (args: string[]): Promise<Run> => pool(() => rxkeras(args, { RXKERAS_BACKEND: 'cpu' }));
const runs = {
  predictH5: run(['predict', `${relu}_model.h5`, '--input', `${reluIO}:inputs/dense_input`, '--output', out('relu-h5.h5')]),
  predictJson: run(['predict', `${relu}_config.json`, '--weights', `${relu}_weights.h5`, '--input', `${reluIO}:inputs/dense_input`, '--output', '-']),
  xentH5: run(['predict', `${xent}_model.h5`, '--input', `${xentIO}:inputs/dense_1_input`, '--output', out('xent.h5'), '--batch-size', '2']),
  xentJson: run(['predict', `${xent}_config.json`, '--weights', `${xent}_weights.h5`, '--input', `${xentIO}:inputs/dense_1_input`, '--output', '-']),
  summaryH5: run(['summary', `${relu}_model.h5`]),
  summaryYaml: run(['summary', `${FIXTURES}yaml/cnn_demo_model.yaml`, '--weights', `${FIXTURES}yaml/cnn_demo_model_weights.h5`]),
  toJson: run(['convert', `${relu}_model.h5`, '--to', 'json', '--output', out('relu.json'), '--weights-output', out('relu-weights.h5')]),
  toYaml: run(['convert', `${relu}_model.h5`, '--to', 'yaml', '--output', '-']),
  toH5: run(['convert', `${relu}_config.json`, '--weights', `${relu}_weights.h5`, '--to', 'h5', '--output', out('relu-whole.h5')]),
  // exit code 1: bad input, one line on stderr
  missingModel: run(['summary', out('nothere.h5')]),
  badDataset: run(['predict', `${relu}_model.h5`, '--input', `${reluIO}:inputs/nope`, '--output', '-']),
  badShape: run(['predict', `${relu}_model.h5`, '--input', `${reluIO}:predictions/re_lu_1`, '--output', '-']),
  unknownLayer: run(['summary', unknownLayer]),
  garbage: run(['predict', garbage, '--input', `${reluIO}:inputs/dense_input`, '--output', '-']),
  badOutputDir: run(['convert', `${relu}_model.h5`, '--to', 'h5', '--output', out('no/such/dir/x.h5')]),
  // exit code 2: wrong usage
  noArgs: run([]),
  unknownCommand: run(['frobnicate']),
  unknownOption: run(['summary', `${relu}_model.h5`, '--frob']),
  missingOutput: run(['predict', `${relu}_model.h5`, '--input', `${reluIO}:inputs/dense_input`]),
  missingInput: run(['predict', `${relu}_model.h5`, '--output', '-']),
  badTo: run(['convert', `${relu}_model.h5`, '--to', 'xml', '--output', '-']),
  badBatch: run(['predict', `${relu}_model.h5`, '--input', `${reluIO}:inputs/dense_input`, '--output', '-', '--batch-size', '0']),
  h5ToStdout: run(['convert', `${relu}_model.h5`, '--to', 'h5', '--output', '-']),
  noWeights: run(['predict', `${relu}_config.json`, '--input', `${reluIO}:inputs/dense_input`, '--output', '-']),
  help: run(['--help']),
};

/** Reads every data set of an .h5 file written by `rxkeras predict`, and its `outputs` attribute. */
async function readOutputs(file: string): Promise<{ names: string[]; arrays: Record<string, ops.Tensor> }> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'r');
  try {
    const names = (JSON.parse(f.attrs['outputs'].value as string) as { outputs: string[] }).outputs;
    const arrays: Record<string, ops.Tensor> = {};
    for (const key of f.keys()) {
      const d = f.get(key) as unknown as { value: Float32Array; shape: number[] };
      arrays[key] = ops.tensor(d.value, d.shape);
    }
    return { names, arrays };
  } finally {
    f.close();
  }
}

function ok(r: Run, what: string): void {
  assert.equal(r.code, 0, `${what}: exit code 0 (stderr: ${r.stderr})`);
}

test('predict: whole .h5 and .json + --weights reproduce the recorded dl4j predictions within 1e-4 relative', async () => {
  const { y } = await readInputsAndPredictions(reluIO);
  const h5 = await runs.predictH5;
  ok(h5, 'predict .h5');
  assert.equal(h5.stdout, '');
  const written = await readOutputs(out('relu-h5.h5'));
  assert.deepEqual(written.names, ['re_lu_1']);
  assert.deepEqual(Object.keys(written.arrays), ['re_lu_1'], 'one data set per output, named after the output layer');
  assertClose(written.arrays.re_lu_1, y[0], 1e-4, 'ReLU_0 from _model.h5');

  const json = await runs.predictJson;
  ok(json, 'predict .json');
  const parsed = JSON.parse(json.stdout) as Record<string, number[][]>;
  assert.deepEqual(Object.keys(parsed), ['re_lu_1']);
  assertClose(ops.tensor(parsed.re_lu_1), y[0], 1e-4, 'ReLU_0 from _config.json + _weights.h5');
  ops.dispose([...y, ...Object.values(written.arrays)]);
});

test('predict: a softmax MLP (simple_sparse_xent), with --batch-size smaller than the data, both forms', async () => {
  const { y } = await readInputsAndPredictions(xentIO);
  const h5 = await runs.xentH5;
  ok(h5, 'predict xent .h5');
  const written = await readOutputs(out('xent.h5'));
  assert.deepEqual(written.names, ['activation_1']);
  assertClose(written.arrays.activation_1, y[0], 1e-4, 'xent from _model.h5 (batches of 2 over 3 rows)');
  const json = await runs.xentJson;
  ok(json, 'predict xent .json');
  assertClose(ops.tensor((JSON.parse(json.stdout) as Record<string, number[][]>).activation_1), y[0], 1e-4, 'xent from .json');
  ops.dispose([...y, ...Object.values(written.arrays)]);
});

test('summary: the Keras table with parameter totals, from a whole .h5 and from YAML + --weights', async () => {
  const h5 = await runs.summaryH5;
  ok(h5, 'summary .h5');
  assert.match(h5.stdout, /^Model: "sequential_1"$/m);
  assert.match(h5.stdout, /dense \(Dense\)\s+\(None, 32\)\s+544/);
  assert.match(h5.stdout, /^Total params: 544$/m);
  assert.match(h5.stdout, /^Trainable params: 544$/m);
  assert.match(h5.stdout, /^Non-trainable params: 0$/m);

  const yaml = await runs.summaryYaml;
  ok(yaml, 'summary .yaml');
  const model = modelFromYAML(fs.readFileSync(`${FIXTURES}yaml/cnn_demo_model.yaml`, 'utf8'));
  const counts = model.build(0).countParams();
  assert.ok(counts.total > 0);
  assert.match(yaml.stdout, new RegExp(`^Total params: ${counts.total.toLocaleString('en-US')}$`, 'm'));
  assert.match(yaml.stdout, new RegExp(`^Trainable params: ${counts.trainable.toLocaleString('en-US')}$`, 'm'));
  model.dispose();
});

test('convert: h5 -> json (+ --weights-output) loads to the same config and predictions; h5 -> yaml on stdout', async () => {
  const original = await loadModel(`${relu}_model.h5`, { compile: false });
  const r = await runs.toJson;
  ok(r, 'convert --to json');
  assert.equal(r.stdout, '');
  const fromJson = modelFromJSON(fs.readFileSync(out('relu.json'), 'utf8'));
  assert.deepEqual(modelToConfig(fromJson), modelToConfig(original));
  await loadWeights(fromJson, out('relu-weights.h5'));
  const { x, y } = await readInputsAndPredictions(reluIO);
  const p = fromJson.predict(x[0]) as ops.Tensor;
  assertClose(p, y[0], 1e-4, 'json + weights written by convert');

  const yaml = await runs.toYaml;
  ok(yaml, 'convert --to yaml -');
  assert.match(yaml.stderr, /--weights-output/, 'says how to keep the weights');
  const fromYaml = modelFromYAML(yaml.stdout);
  assert.deepEqual(modelToConfig(fromYaml), modelToConfig(original));
  ops.dispose([...x, ...y, p]);
  for (const m of [original, fromJson, fromYaml]) m.dispose();
});

test('convert: json + --weights -> whole .h5 gives the same predictions, bit for bit, as the original', async () => {
  const r = await runs.toH5;
  ok(r, 'convert --to h5');
  const whole = await loadModel(out('relu-whole.h5'));
  const original = await loadModel(`${relu}_model.h5`);
  assert.deepEqual(modelToConfig(whole), modelToConfig(original));
  const { x } = await readInputsAndPredictions(reluIO);
  const a = whole.predict(x[0]) as ops.Tensor;
  const b = original.predict(x[0]) as ops.Tensor;
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  ops.dispose([...x, a, b]);
  whole.dispose();
  original.dispose();
});

test('exit code 1 with one line on stderr for bad input', async () => {
  const cases: [keyof typeof runs, RegExp][] = [
    ['missingModel', /nothere\.h5': no such file or directory/],
    ['badDataset', /inputs\/nope: no such data set; the file has: .*inputs\/dense_input/],
    ['badShape', /input 'dense_input' .*predictions\/re_lu_1\): expected shape \[null, 16\], got \[2, 32\]/],
    ['unknownLayer', /unknown layer class_name 'NopeLayer'\. Known: .*Dense.*registerLayer\('NopeLayer'/],
    ['garbage', /garbage\.h5: not an HDF5 file/],
    ['badOutputDir', /no\/such\/dir': no such file or directory/],
  ];
  for (const [name, message] of cases) {
    const r = await runs[name];
    assert.equal(r.code, 1, `${name}: exit code 1 (stderr: ${r.stderr})`);
    assert.ok(oneLine(r.stderr), `${name}: one line on stderr, got ${JSON.stringify(r.stderr)}`);
    assert.match(r.stderr, /^rxkeras: error: /, name);
    assert.match(r.stderr, message, name);
    assert.equal(r.stdout, '', `${name}: nothing on stdout`);
  }
  assert.ok(!fs.existsSync(out('no/such/dir/x.h5')));
});

test('exit code 2 for wrong usage; 0 for --help', async () => {
  const cases: [keyof typeof runs, RegExp][] = [
    ['noArgs', /Usage: rxkeras/],
    ['unknownCommand', /unknown command 'frobnicate'/],
    ['unknownOption', /unknown option '--frob'/],
    ['missingOutput', /required option '--output <file>' not specified/],
    ['missingInput', /required option '--input <file:datasets>' not specified/],
    ['badTo', /'xml' is invalid\. Allowed choices are json, yaml, h5/],
    ['badBatch', /'--batch-size <n>' argument '0' is invalid/],
    ['h5ToStdout', /--to h5 writes a file/],
    ['noWeights', /holds no weights: pass --weights/],
  ];
  for (const [name, message] of cases) {
    const r = await runs[name];
    assert.equal(r.code, 2, `${name}: exit code 2 (stderr: ${r.stderr})`);
    assert.match(r.stderr, message, name);
    assert.equal(r.stdout, '', `${name}: nothing on stdout`);
  }
  const help = await runs.help;
  assert.equal(help.code, 0);
  assert.match(help.stdout, /summary .*\n.*predict .*\n(.*\n)*.*convert /);
});
