/**
 * `rxkeras fit` and `rxkeras evaluate` on HDF5 data streamed from disk: a fit
 * from the command line equals `model.fit` in code on the same model, data
 * and seed, bit for bit on the cpu backend (weights, per-epoch logs), and
 * writes what its options ask for (checkpoints, CSV log, TensorBoard files);
 * evaluate prints Keras's metrics; exit code 2 for usage, 1 with one line
 * for a bad file.
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as ops from '../../src/ops/index.js';
import { Dense, Dropout } from '../../src/layers/index.js';
import { Sequential } from '../../src/models/sequential.js';
import { loadModel } from '../../src/models/index.js';
import { withH5Write, writeArray } from '../../src/core/hdf5.js';
import { limiter, oneLine, rxkeras, tempDir } from './helpers.js';

const tmp = tempDir('rxkeras-fit-cli-');
const out = (name: string) => path.join(tmp, name);
const pool = limiter(3);
const run = (args: string[]) => pool(() => rxkeras(args, { RXKERAS_BACKEND: 'cpu' }));

// A compiled model (Dropout: the seed decides its masks too) and 20 rows of data, written as Keras files.
const N = 20;
const xData = Float32Array.from({ length: N * 3 }, (_, i) => Math.sin(i * 1.7));
const yData = Float32Array.from({ length: N * 2 }, (_, i) => Math.cos(i * 0.9));
const model = new Sequential({
  layers: [Dense({ units: 8, activation: 'relu', input_shape: [3] }), Dropout({ rate: 0.25 }), Dense({ units: 2 })],
}).build(1);
model.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
await model.save(out('model.h5'));
fs.writeFileSync(out('model.json'), model.toJSON());
const uncompiled = new Sequential({ layers: [Dense({ units: 2, input_shape: [3] })] }).build(1);
await uncompiled.save(out('uncompiled.h5'));
await withH5Write(out('data.h5'), (file) => {
  writeArray(file, 'x', [N, 3], xData);
  writeArray(file, 'targets/y', [N, 2], yData);
});
const data = out('data.h5');
const fitArgs = ['--x', `${data}:x`, '--y', `${data}:targets/y`, '--epochs', '3', '--batch-size', '4', '--validation-split', '0.2', '--seed', '5'];

const runs = {
  fit: run(['fit', out('model.h5'), ...fitArgs, '--output', out('trained.h5'), '--csv-log', out('log.csv'), '--tensorboard', out('tb'), '--checkpoint', out('ckpt-{epoch:02d}.h5'), '--early-stopping-patience', '5']),
  // exit code 2: usage
  noY: run(['fit', out('model.h5'), '--x', `${data}:x`, '--output', out('never.h5')]),
  badSplit: run(['fit', out('model.h5'), ...fitArgs.slice(0, 4), '--validation-split', '1.5', '--output', out('never.h5')]),
  notH5: run(['evaluate', out('model.json'), '--x', `${data}:x`, '--y', `${data}:targets/y`]),
  // exit code 1: bad files
  noDataset: run(['fit', out('model.h5'), '--x', `${data}:nope`, '--y', `${data}:targets/y`, '--output', out('never.h5')]),
  badShape: run(['evaluate', out('model.h5'), '--x', `${data}:targets/y`, '--y', `${data}:x`]),
  uncompiled: run(['fit', out('uncompiled.h5'), '--x', `${data}:x`, '--y', `${data}:targets/y`, '--output', out('never.h5')]),
};

test('rxkeras fit equals model.fit with the same seed: the same weights bit for bit, the same logs; checkpoints, CSV log, TensorBoard files', async () => {
  const r = await runs.fit;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Epoch 1\/3\n4\/4 \[=+\] - .* - loss: \d\.\d{4} - mae: \d\.\d{4} - val_loss: \d\.\d{4} - val_mae: \d\.\d{4}/);
  assert.match(r.stdout, /Epoch 3\/3/);

  await onBackend('cpu', async () => {
    const inCode = await loadModel(out('model.h5'), { seed: 5 });
    const x = ops.tensor2d(xData, [N, 3]);
    const y = ops.tensor2d(yData, [N, 2]);
    const history = await inCode.fit(x, y, { epochs: 3, batchSize: 4, validationSplit: 0.2, verbose: 0 });
    const trained = await loadModel(out('trained.h5'));
    const mine = inCode.getWeights();
    const theirs = trained.getWeights();
    assert.equal(theirs.length, 4);
    mine.forEach((w, i) => assert.deepEqual(Array.from(theirs[i].dataSync()), Array.from(w.dataSync()), `weight ${i}`));
    assert.equal(trained.compiled!.step, 12, 'optimizer state saved: 4 steps x 3 epochs');

    const rows = fs.readFileSync(out('log.csv'), 'utf8').trim().split('\r\n').map((l) => l.split(','));
    assert.deepEqual(rows[0], ['epoch', 'loss', 'mae', 'val_loss', 'val_mae']);
    rows.slice(1).forEach((row, e) => rows[0].slice(1).forEach((k, j) => assert.equal(Number(row[j + 1]), history.history[k][e], `epoch ${e} ${k}`)));
    ops.dispose([x, y, ...mine, ...theirs]);
    inCode.dispose();
    trained.dispose();
  });
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('ckpt-')).sort(), ['ckpt-01.h5', 'ckpt-02.h5', 'ckpt-03.h5']);
  for (const dir of ['train', 'validation']) assert.match(fs.readdirSync(path.join(tmp, 'tb', dir))[0], /^events\.out\.tfevents\./);
});

test('rxkeras evaluate prints the loss and metrics of the training_config, as model.evaluate computes them', async () => {
  await runs.fit;
  const r = await run(['evaluate', out('trained.h5'), '--x', `${data}:x`, '--y', `${data}:targets/y`, '--batch-size', '7']);
  assert.equal(r.code, 0, r.stderr);
  const m = r.stdout.match(/^loss: (\d\.\d{4}) - mae: (\d\.\d{4})\n$/);
  assert.ok(m, r.stdout);
  await onBackend('cpu', async () => {
    const trained = await loadModel(out('trained.h5'));
    const x = ops.tensor2d(xData, [N, 3]);
    const y = ops.tensor2d(yData, [N, 2]);
    const logs = trained.evaluate(x, y, { batchSize: 7 });
    assert.equal(m![1], logs.loss.toFixed(4));
    assert.equal(m![2], logs.mae.toFixed(4));
    ops.dispose([x, y]);
    trained.dispose();
  });
});

test('exit code 2 for wrong usage; 1 with one line on stderr for a missing data set, wrong shapes, a model without training_config', async () => {
  for (const name of ['noY', 'badSplit', 'notH5'] as const) {
    const r = await runs[name];
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
  }
  const expect1: Record<'noDataset' | 'badShape' | 'uncompiled', RegExp> = {
    noDataset: /data\.h5.*nope.*no such data set/,
    badShape: /input 'dense.*targets\/y.*expected shape \[null, 3\], got \[20, 2\]/,
    uncompiled: /uncompiled\.h5 has no training_config/,
  };
  for (const [name, pattern] of Object.entries(expect1)) {
    const r = await runs[name as keyof typeof expect1];
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.ok(oneLine(r.stderr), `${name}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  assert.equal(fs.existsSync(out('never.h5')), false);
});
