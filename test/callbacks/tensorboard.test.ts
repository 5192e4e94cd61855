/**
 * TensorBoard: the event files re-read by an independent reader
 * (tensorboard_reader.py: Python's standard library only, its own CRC32C
 * table and protobuf wire decoding): CRCs checked, every epoch and batch
 * scalar at its step with the value fit logged, weight histograms every
 * histogramFreq epochs, the model config as text and as a Keras graph.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ops from '../../src/ops/index.js';
import { Dense } from '../../src/layers/index.js';
import { Sequential } from '../../src/models/sequential.js';
import { LambdaCallback, TensorBoard } from '../../src/callbacks/index.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { PYTHON, needsPython } from '../helpers/python.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-tensorboard-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const READER = new URL('./tensorboard_reader.py', import.meta.url).pathname;

interface Value {
  tag: string;
  plugin?: string;
  content?: string;
  tensor?: { dtype: number; shape: number[]; float_val?: number[]; double_content?: number[]; string_val?: string[] };
}
interface Event {
  step: number;
  wall_time: number;
  file_version?: string;
  values?: Value[];
}

function read(file: string): Event[] {
  const r = spawnSync(PYTHON, [READER, file], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`reader: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Event[];
}

/** The one event file in `dir`. */
function eventFile(dir: string): string {
  const files = fs.readdirSync(dir);
  assert.equal(files.length, 1, `${dir}: ${files.join(', ')}`);
  assert.match(files[0], /^events\.out\.tfevents\.\d+\..+\.\d+\.\d+\.v2$/);
  return path.join(dir, files[0]);
}

/** Every scalar with this tag: [step, value]. */
const scalars = (events: Event[], tag: string): [number, number][] =>
  events.flatMap((e) => (e.values ?? []).filter((v) => v.tag === tag).map((v) => [e.step, v.tensor!.float_val![0]] as [number, number]));

const f32 = (x: number) => Math.fround(x);

test('epoch and batch scalars at their steps, histograms every histogramFreq epochs, the model config as text', { skip: needsPython() }, async () => {
  const logDir = path.join(tmp, 'run');
  const model = new Sequential({ layers: [Dense({ units: 3, activation: 'relu', input_shape: [2], name: 'hidden' }), Dense({ units: 1, name: 'out' })] }).build(3);
  model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] }, 3);
  const x = ops.randomUniform([10, 2], -1, 1, 'float32', 1);
  const y = ops.randomUniform([10, 1], -1, 1, 'float32', 2);
  // 8 training rows in batches of 3: 3 batches per epoch, 9 in all; every 2nd batch logged: 0, 2, 4, 6, 8.
  const history = await model.fit(x, y, { epochs: 3, batchSize: 3, validationSplit: 0.2, verbose: 0, callbacks: [TensorBoard({ logDir, updateFreq: 2, histogramFreq: 2 })] });
  const train = read(eventFile(path.join(logDir, 'train')));
  const validation = read(eventFile(path.join(logDir, 'validation')));

  for (const events of [train, validation]) assert.equal(events[0].file_version, 'brain.Event:2');
  for (const key of ['loss', 'mae']) {
    assert.deepEqual(scalars(train, `epoch_${key}`), history.history[key].map((v, i) => [i, f32(v)]));
    assert.deepEqual(scalars(validation, `epoch_${key}`), history.history[`val_${key}`].map((v, i) => [i, f32(v)]));
  }
  assert.deepEqual(scalars(train, 'epoch_learning_rate'), [[0, f32(0.01)], [1, f32(0.01)], [2, f32(0.01)]]);
  assert.deepEqual(scalars(train, 'batch_loss').map(([step]) => step), [0, 2, 4, 6, 8]);
  assert.deepEqual(scalars(validation, 'batch_loss'), []);
  const scalarValues = [...train, ...validation].flatMap((e) => e.values ?? []).filter((v) => v.plugin === 'scalars');
  assert.ok(scalarValues.every((v) => v.tensor!.dtype === 1 && v.tensor!.shape.length === 0));

  // Histograms at epochs 0 and 2; the last one is of the final weights.
  const histograms = train.flatMap((e) => (e.values ?? []).filter((v) => v.plugin === 'histograms').map((v) => [e.step, v] as const));
  assert.deepEqual([...new Set(histograms.map(([step]) => step))], [0, 2]);
  assert.deepEqual(histograms.filter(([step]) => step === 2).map(([, v]) => v.tag), ['hidden/kernel_0', 'hidden/bias_0', 'out/kernel_0', 'out/bias_0']);
  const final = new Map(model.getWeights().map((w, i) => [['hidden/kernel_0', 'hidden/bias_0', 'out/kernel_0', 'out/bias_0'][i], Array.from(w.dataSync())]));
  for (const [step, v] of histograms) {
    const rows = v.tensor!.double_content!;
    assert.equal(v.tensor!.dtype, 2);
    assert.deepEqual(v.tensor!.shape, [rows.length / 3, 3]);
    if (step !== 2) continue;
    const w = final.get(v.tag)!;
    const counts = rows.filter((_, i) => i % 3 === 2);
    assert.equal(counts.reduce((a, b) => a + b, 0), w.length, `${v.tag}: every weight counted once`);
    if (new Set(w).size > 1) {
      assert.equal(rows.length, 30 * 3);
      assert.equal(rows[0], Math.min(...w));
      assert.ok(Math.abs(rows[rows.length - 2] - Math.max(...w)) < 1e-12);
    }
  }

  const start = train.find((e) => e.values?.some((v) => v.tag === 'model_config'))!;
  assert.equal(start.step, 0);
  const config = start.values!.find((v) => v.tag === 'model_config')!;
  assert.equal(config.plugin, 'text');
  const markdown = config.tensor!.string_val![0];
  assert.deepEqual(JSON.parse(markdown.replace(/^```json\n|\n```$/g, '')), JSON.parse(model.toJSON()));
  const graph = start.values!.find((v) => v.tag === 'keras')!;
  assert.deepEqual([graph.plugin, graph.content], ['graph_keras_model', '1']);
  assert.deepEqual(JSON.parse(graph.tensor!.string_val![0]), JSON.parse(model.toJSON()));
  ops.dispose([x, y]);
  model.dispose();
});

test('with stepsPerExecution 2 the batch scalars go at the global batch numbers of the batch events, at the first event at or past each multiple of updateFreq', { skip: needsPython() }, async () => {
  const logDir = path.join(tmp, 'per-execution');
  const model = new Sequential({ layers: [Dense({ units: 1, input_shape: [2] })] }).build(1);
  model.compile({ optimizer: 'sgd', loss: 'mse', stepsPerExecution: 2 }, 1);
  const x = ops.randomUniform([6, 2], -1, 1, 'float32', 1);
  const y = ops.randomUniform([6, 1], -1, 1, 'float32', 2);
  // 3 batches per epoch: batch events after batches 1 and 2 of each epoch, global numbers 1, 2, 4, 5, 7, 8.
  const losses: [number, number][] = [];
  const logged = LambdaCallback({ onBatchEnd: (batch, logs, e) => void losses.push([e.epoch * 3 + batch, f32(logs.loss as number)]) });
  await model.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false, verbose: 0, callbacks: [TensorBoard({ logDir, updateFreq: 2 }), logged] });
  assert.deepEqual(losses.map(([step]) => step), [1, 2, 4, 5, 7, 8]);
  assert.deepEqual(scalars(read(eventFile(path.join(logDir, 'train'))), 'batch_loss'), losses.filter(([step]) => [1, 2, 4, 7, 8].includes(step)));
  ops.dispose([x, y]);
  model.dispose();
});

test('the reader checks the CRCs: a flipped byte is found', { skip: needsPython() }, async () => {
  const logDir = path.join(tmp, 'crc');
  const model = new Sequential({ layers: [Dense({ units: 1, input_shape: [2] })] }).build(1);
  model.compile({ optimizer: 'sgd', loss: 'mse' }, 1);
  await model.fit([[0, 1], [1, 0]], [[1], [0]], { epochs: 1, verbose: 0, callbacks: [TensorBoard({ logDir })] });
  const file = eventFile(path.join(logDir, 'train'));
  assert.equal(read(file).length, 3, 'file version, graph and config, epoch scalars');
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 10] ^= 0x01;
  fs.writeFileSync(file, bytes);
  assert.throws(() => read(file), /bad data CRC/);
  assert.equal(fs.existsSync(path.join(logDir, 'validation')), false, 'no validation writer without validation data');
  model.dispose();
});

test('bad options are refused with the argument named', () => {
  assert.throws(() => TensorBoard({ updateFreq: 0 }), (e: Error) => e instanceof InvalidArgumentError && /updateFreq/.test(e.message));
  assert.throws(() => TensorBoard({ histogramFreq: -1 }), (e: Error) => e instanceof InvalidArgumentError && /histogramFreq/.test(e.message));
  assert.throws(() => TensorBoard({ logDir: '' }), InvalidArgumentError);
});
