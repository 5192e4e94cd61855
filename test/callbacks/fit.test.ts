import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as rx from '../../src/index.js';
import { loadModel, loadWeights } from '../../src/models/io.js';
import type { Callback } from '../../src/training/events.js';
import type { TrainingSetup } from '../../src/training/types.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-callbacks-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);

function data(n: number, seed = 1) {
  const x = tf.randomNormal([n, 3], 0, 1, 'float32', seed);
  const y = tf.tidy(() => tf.oneHot(tf.cast(tf.greater(tf.sum(x, 1), 0), 'int32'), 2));
  return { x, y };
}

function mlp(seed = 1, lr = 0.1) {
  const model = new rx.Sequential({ layers: [rx.Dense({ units: 4, activation: 'relu', input_shape: [3] }), rx.Dense({ units: 2, activation: 'softmax' })] });
  model.build(seed);
  model.compile({ optimizer: rx.SGD({ learning_rate: lr }), loss: 'categorical_crossentropy' }, seed);
  return model;
}

const values = (ws: tf.Tensor[]) => ws.map((w) => Array.from(w.dataSync()));

/** A LambdaCallback that keeps a copy of the weights (as arrays) at the end of every epoch. */
function weightsPerEpoch(model: rx.Model): { callback: Callback; epochs: number[][][] } {
  const epochs: number[][][] = [];
  const callback = rx.LambdaCallback({
    onEpochEnd: (epoch) => {
      const ws = model.getWeights();
      epochs[epoch] = values(ws);
      tf.dispose(ws);
    },
  });
  return { callback, epochs };
}

async function fileWeights(path: string): Promise<number[][]> {
  const fresh = mlp(9);
  await loadWeights(fresh, path);
  const ws = fresh.getWeights();
  const out = values(ws);
  tf.dispose(ws);
  fresh.dispose();
  return out;
}

/** A categorical crossentropy that returns NaN on its `at`-th call. */
function nanLoss(at: number) {
  let calls = 0;
  return (yTrue: tf.Tensor, yPred: tf.Tensor) => {
    const l = tf.tidy(() => tf.neg(tf.sum(tf.mul(yTrue, tf.log(tf.clipByValue(yPred, 1e-7, 1))), -1)));
    if (++calls !== at) return l;
    const nan = tf.tidy(() => tf.mul(l, NaN));
    l.dispose();
    return nan;
  };
}

test('EarlyStopping through fit: the stream completes early, fit resolves with the History, best weights restored, no leak', async () => {
  const { x, y } = data(32);
  const model = mlp();
  await model.fit(x, y, { epochs: 1, verbose: 0 }); // optimizer state exists from here on
  const base = tf.memory().numTensors;
  const seen = weightsPerEpoch(model);
  // mode 'max' on a falling loss: epoch 0 is the best, nothing later improves; patience 2 stops at epoch 2
  const events: string[] = [];
  const history = await model.fit(x, y, {
    epochs: 10, batchSize: 8, verbose: 0,
    callbacks: [seen.callback, rx.EarlyStopping({ monitor: 'loss', mode: 'max', patience: 2, restoreBestWeights: true }), rx.LambdaCallback({ onTrainEnd: () => events.push('fitEnd') })],
  });
  assert.deepEqual(history.epoch, [0, 1, 2]);
  assert.equal(history.history.loss.length, 3);
  assert.deepEqual(events, ['fitEnd'], 'the loop ends the fit: fitEnd reaches every callback');
  assert.ok(history.history.loss[2] < history.history.loss[0]);
  const now = model.getWeights();
  assert.deepEqual(values(now), seen.epochs[0], 'the weights of the best epoch (0)');
  assert.notDeepEqual(values(now), seen.epochs[2]);
  tf.dispose(now);
  assert.equal(tf.memory().numTensors, base);
  // training goes on from the restored weights
  await model.fit(x, y, { epochs: 1, verbose: 0 });
  assert.equal(tf.memory().numTensors, base);
  tf.dispose([x, y]);
  model.dispose();
});

test('TerminateOnNaN through fit: no batch runs after the NaN loss; the epoch ends and fit resolves', async () => {
  const { x, y } = data(32);
  const model = mlp();
  model.compile({ optimizer: rx.SGD({ learning_rate: 0.1 }), loss: nanLoss(3) });
  let batches = 0;
  const lines: string[] = [];
  const history = await model.fit(x, y, {
    epochs: 5, batchSize: 8, verbose: 0,
    callbacks: [rx.TerminateOnNaN({ print: (l) => lines.push(l) }), rx.LambdaCallback({ onBatchEnd: () => batches++ })],
  });
  assert.equal(batches, 3);
  assert.deepEqual(lines, ['Batch 2: Invalid loss, terminating training']);
  assert.deepEqual(history.epoch, [0]);
  assert.ok(Number.isNaN(history.history.loss[0]));
  tf.dispose([x, y]);
  model.dispose();
});

test('ReduceLROnPlateau and LearningRateScheduler through fit change the rate the optimizer uses, and log it', async () => {
  const { x, y } = data(32);
  const model = mlp();
  const h = await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, callbacks: [rx.ReduceLROnPlateau({ monitor: 'loss', mode: 'max', patience: 1, factor: 0.5 })] });
  assert.deepEqual(h.history.lr, [0.1, 0.1, 0.05]);
  assert.equal(rx.getLearningRate((model.compiled as TrainingSetup).optState as rx.OptimizerState), 0.025);

  // a schedule that stops learning after epoch 0: the weights do not move in epochs 1 and 2
  const seen = weightsPerEpoch(model);
  const h2 = await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, callbacks: [rx.LearningRateScheduler((epoch) => (epoch === 0 ? 0.1 : 0)), seen.callback] });
  assert.deepEqual(h2.history.lr, [0.1, 0, 0]);
  assert.notDeepEqual(seen.epochs[0], seen.epochs[0].map((w) => w.map(() => 0)));
  assert.deepEqual(seen.epochs[1], seen.epochs[0]);
  assert.deepEqual(seen.epochs[2], seen.epochs[0]);
  tf.dispose([x, y]);
  model.dispose();
});

test('ModelCheckpoint: one file per epoch named by the template, holding the weights of the epoch it names', async () => {
  const { x, y } = data(32);
  const model = mlp();
  const seen = weightsPerEpoch(model);
  const lines: string[] = [];
  const h = await model.fit(x, y, {
    epochs: 3, batchSize: 8, verbose: 0, validationSplit: 0.25,
    callbacks: [seen.callback, rx.ModelCheckpoint(path.join(dir, 'each', 'w.{epoch:02d}-{val_loss:.2f}.h5'), { saveWeightsOnly: true, verbose: 1, print: (l) => lines.push(l) })],
  });
  const names = h.history.val_loss.map((v, i) => `w.${String(i + 1).padStart(2, '0')}-${v.toFixed(2)}.h5`);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'each')).sort(), [...names].sort());
  for (let i = 0; i < 3; i++) assert.deepEqual(await fileWeights(path.join(dir, 'each', names[i])), seen.epochs[i], `epoch ${i + 1}`);
  assert.deepEqual(lines, names.map((n, i) => `Epoch ${i + 1}: saving model to ${path.join(dir, 'each', n)}`));
  tf.dispose([x, y]);
  model.dispose();
});

test('ModelCheckpoint saveBestOnly, saveFreq in batches, and whole-model saves that load back with the optimizer', async () => {
  const { x, y } = data(32);
  const model = mlp();
  const seen = weightsPerEpoch(model);
  const lines: string[] = [];
  await model.fit(x, y, {
    epochs: 3, batchSize: 8, verbose: 0,
    callbacks: [
      seen.callback,
      // mode 'max' on a falling loss: only epoch 1 improves (on -inf)
      rx.ModelCheckpoint(file('best.h5'), { monitor: 'loss', mode: 'max', saveBestOnly: true, saveWeightsOnly: true, verbose: 1, print: (l) => lines.push(l) }),
      rx.ModelCheckpoint(file('batch-{epoch}-{batch}.h5'), { saveFreq: 3, saveWeightsOnly: true }),
      rx.ModelCheckpoint(file('model.h5')),
    ],
  });
  assert.deepEqual(await fileWeights(file('best.h5')), seen.epochs[0]);
  assert.match(lines[0], /^Epoch 1: loss improved from -inf to \d\.\d{5}, saving model to .*best\.h5$/);
  assert.match(lines[1], /^Epoch 2: loss did not improve from \d\.\d{5}$/);
  assert.equal(lines.length, 3);
  // 4 batches per epoch, every 3rd batch counted across epochs: epoch 1 batch 3, epoch 2 batch 2, epoch 3 batch 1 and 4
  const batchFiles = fs.readdirSync(dir).filter((f) => f.startsWith('batch-')).sort();
  assert.deepEqual(batchFiles, ['batch-1-3.h5', 'batch-2-2.h5', 'batch-3-1.h5', 'batch-3-4.h5']);
  assert.deepEqual(await fileWeights(file('batch-3-4.h5')), seen.epochs[2], 'the last batch of the last epoch');
  const loaded = await loadModel(file('model.h5'));
  const lw = loaded.getWeights();
  assert.deepEqual(values(lw), seen.epochs[2]);
  assert.equal(rx.getIterations((loaded.compiled as TrainingSetup).optState as rx.OptimizerState), 12, 'the optimizer state of the same moment: 3 epochs of 4 steps');
  tf.dispose(lw);
  loaded.dispose();
  tf.dispose([x, y]);
  model.dispose();
});

test('a step that fails mid-fit rejects fit with its error, frees every tensor, and leaves the last checkpoint whole', async () => {
  const { x, y } = data(32);
  const model = mlp();
  // 4 batches per epoch: the 10th step is in epoch 3 (index 2)
  let calls = 0;
  model.compile({
    optimizer: rx.SGD({ learning_rate: 0.1 }),
    loss: (yt: tf.Tensor, yp: tf.Tensor) => {
      if (++calls === 10) throw new Error('boom: the step failed');
      return tf.tidy(() => tf.neg(tf.sum(tf.mul(yt, tf.log(tf.clipByValue(yp, 1e-7, 1))), -1)));
    },
  });
  const seen = weightsPerEpoch(model);
  const csv = file('failing.csv');
  await model.fit(x, y, { epochs: 1, verbose: 0 }); // compile reset the optimizer: make its state again
  calls = 0;
  const base2 = tf.memory().numTensors;
  await assert.rejects(
    model.fit(x, y, {
      epochs: 5, batchSize: 8, verbose: 0,
      callbacks: [seen.callback, rx.ModelCheckpoint(file('last.h5'), { saveWeightsOnly: true }), rx.CSVLogger(csv), rx.EarlyStopping({ monitor: 'loss', restoreBestWeights: true, patience: 5 })],
    }),
    /boom: the step failed/,
  );
  assert.equal(seen.epochs.length, 2);
  assert.deepEqual(await fileWeights(file('last.h5')), seen.epochs[1], 'the checkpoint of the last finished epoch');
  assert.equal(fs.readFileSync(csv, 'utf8').split('\r\n').length, 4, 'header, two rows, and the final line end');
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temporary file left');
  assert.equal(tf.memory().numTensors, base2, 'every tensor freed');
  tf.dispose([x, y]);
  model.dispose();
});

test('a save that fails rejects fit with its error and leaves the previous checkpoint intact', async () => {
  const { x, y } = data(32);
  const model = mlp();
  await model.fit(x, y, { epochs: 1, verbose: 0 });
  const base = tf.memory().numTensors;
  const seen = weightsPerEpoch(model);
  const target = file('atomic.h5');
  const tmp = `${target}.tmp-${process.pid}`;
  // at the end of epoch 2 a directory takes the temporary file's place, so that save cannot be written
  const sabotage = rx.LambdaCallback({ onEpochEnd: (epoch) => void (epoch === 1 && fs.mkdirSync(tmp)) });
  await assert.rejects(
    model.fit(x, y, { epochs: 4, batchSize: 8, verbose: 0, callbacks: [seen.callback, sabotage, rx.ModelCheckpoint(target, { saveWeightsOnly: true })] }),
    (e: Error) => e.message.includes(tmp) || /EISDIR|directory|cannot/i.test(e.message),
  );
  fs.rmSync(tmp, { recursive: true, force: true });
  assert.deepEqual(await fileWeights(target), seen.epochs[0], 'still the checkpoint of epoch 1');
  assert.ok(seen.epochs.length < 4, 'the failed save stopped training');
  assert.equal(tf.memory().numTensors, base);
  tf.dispose([x, y]);
  model.dispose();
});

test('no callback leaks tensors through fit; each works with the progress bar on a fake stream', async () => {
  const { x, y } = data(32);
  const model = mlp();
  await model.fit(x, y, { epochs: 1, verbose: 0 });
  const base = tf.memory().numTensors;
  const all: [string, () => Callback][] = [
    ['EarlyStopping', () => rx.EarlyStopping({ monitor: 'val_loss', restoreBestWeights: true, patience: 1 })],
    ['ModelCheckpoint', () => rx.ModelCheckpoint(file('leak-{epoch}.h5'))],
    ['ReduceLROnPlateau', () => rx.ReduceLROnPlateau({ patience: 0 })],
    ['LearningRateScheduler', () => rx.LearningRateScheduler((_, lr) => lr * 0.9)],
    ['CSVLogger', () => rx.CSVLogger(file('leak.csv'))],
    ['TerminateOnNaN', () => rx.TerminateOnNaN()],
    ['LambdaCallback', () => rx.LambdaCallback({ onEpochEnd: () => {} })],
  ];
  for (const [name, make] of all) {
    await model.fit(x, y, { epochs: 3, batchSize: 8, validationSplit: 0.25, verbose: 0, callbacks: [make()] });
    assert.equal(tf.memory().numTensors, base, name);
  }
  const out = { text: '', isTTY: false, write(s: string) { this.text += s; return true; } };
  await model.fit$(x, y, { epochs: 2, batchSize: 8 }).pipe(rx.callbacks.progbar({ verbose: 2, stream: out })).forEach(() => {});
  // Keras picks s, ms or us by the duration, so any of them may appear.\n  assert.match(out.text, /^Epoch 1\/2\n4\/4 - \d+s - loss: \d\.\d{4} - \d+(?:s|ms|us)\/epoch - \d+(?:s|ms|us)\/step\nEpoch 2\/2\n4\/4 - /);
  assert.equal(tf.memory().numTensors, base);
  tf.dispose([x, y]);
  model.dispose();
});

test("the README's custom callback: warm-up through control.setLearningRate, then a clean stop", async () => {
  const { x, y } = data(32);
  const model = mlp();
  const warmup = (steps: number, lr: number): rx.Callback =>
    rx.callbackOperator(() => {
      let seen = 0; // per fit
      return {
        after: (e) => {
          if (e.type === 'batchEnd' && seen < steps) e.control.setLearningRate((lr * ++seen) / steps);
          if (e.type === 'epochEnd' && e.logs.loss < 10) e.control.stop();
        },
      };
    });
  const rates: number[] = [];
  const h = await model.fit(x, y, {
    epochs: 5, batchSize: 8, verbose: 0,
    callbacks: [warmup(3, 0.3), rx.LambdaCallback({ onBatchEnd: (_, __, e) => void rates.push(e.control.getLearningRate()) })],
  });
  // the LambdaCallback is downstream: it sees each batch before `after` raises the rate for the next one
  assert.deepEqual(rates.map((r) => Number(r.toFixed(9))), [0.1, 0.1, 0.2, 0.3]);
  assert.deepEqual(h.epoch, [0], 'stopped after the first epoch');
  tf.dispose([x, y]);
  model.dispose();
});
