import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { backendReady } from '../helpers/backend.js';
import * as rx from '../../src/index.js';
import * as ops from '../../src/ops/index.js';
import { configureDevices, disposeDevices } from '../../src/parallel/devices.js';
import { multiGpuModel, type ParallelModel } from '../../src/models/multi-gpu-model.js';
import { batch, fromGenerator, fromTensors } from '../../streams/index.js';
import { tensors } from '../../src/core/tree.js';

await backendReady;
// Four worker threads, one wasm thread each, reused by every test in this file.
before(() => configureDevices({ cpuWorkers: 4, threadsPerWorker: 1 }));
after(() => disposeDevices());

const X = ops.randomNormal([10, 5], 0, 1, 'float32', 3);
const LABELS = [0, 1, 2, 0, 1, 2, 2, 1, 0, 2];
const Y = ops.oneHot(ops.tensor1d(LABELS, 'int32'), 3);

/** A small MLP with an L2 penalty and a frozen middle layer, seeded: two calls give equal models. */
function mlp(optimizer: rx.Optimizer | string, seed = 7, stepsPerExecution = 1): rx.Sequential {
  const model = new rx.Sequential({
    layers: [
      rx.Dense({ units: 8, activation: 'relu', input_shape: [5], kernel_regularizer: { class_name: 'L2', config: { l2: 0.01 } } }),
      rx.Dense({ units: 6, activation: 'tanh', name: 'frozen' }),
      rx.Dense({ units: 3, activation: 'softmax' }),
    ],
  });
  model.build(seed);
  model.getLayer('frozen').trainable = false;
  model.compile({ optimizer, loss: 'categorical_crossentropy', metrics: ['accuracy'], stepsPerExecution }, seed);
  return model;
}

/** Largest |a - b| / (|b| + 1e-3) over all weights. */
function maxRelDiff(a: rx.Model, b: rx.Model): number {
  const wa = a.getWeights();
  const wb = b.getWeights();
  let worst = 0;
  wa.forEach((w, i) => {
    const d = ops.tidy(() => ops.max(ops.div(ops.abs(ops.sub(w, wb[i])), ops.add(ops.abs(wb[i]), 1e-3))).dataSync()[0]);
    worst = Math.max(worst, d);
  });
  ops.dispose([...wa, ...wb]);
  return worst;
}

/** Disposes models with their optimizer states. */
function release(...models: rx.Model[]): void {
  for (const m of models) {
    ops.dispose(tensors(m.compiled?.optState));
    m.dispose();
  }
}

async function withParallel<T>(model: rx.Model, gpus: number, f: (p: ParallelModel) => Promise<T>): Promise<T> {
  const p = multiGpuModel(model, { gpus });
  try {
    return await f(p);
  } finally {
    await p.close();
  }
}

const optimizers: [string, () => rx.Optimizer][] = [
  ['Adam', () => rx.Adam({ learning_rate: 0.05 })],
  ['SGD with momentum', () => rx.SGD({ learning_rate: 0.1, momentum: 0.9 })],
  // The norm is over every gradient: the replicas update the whole weights instead of a range each.
  ['Adam with global_clipnorm', () => rx.Adam({ learning_rate: 0.05, global_clipnorm: 0.05 })],
  // Each gradient is clipped by its own norm: the replicas' ranges end at value boundaries.
  ['RMSprop with clipnorm', () => rx.RMSprop({ learning_rate: 0.05, clipnorm: 0.05 })],
];

for (const [name, optimizer] of optimizers)
  test(`one step with 1, 2, 3, 4 replicas equals the single-device step (${name}, L2, class weights, frozen layer, batch 10 over 4 = 2+2+2+4)`, async () => {
    const classWeight = { 0: 1, 1: 2.5, 2: 0.5 };
    for (const gpus of [1, 2, 3, 4]) {
      const before = ops.memory().numTensors;
      const single = mlp(optimizer());
      const parallel = mlp(optimizer());
      // trainOnBatch has no classWeight in Keras 2; fit on one batch has.
      const expected = single.trainOnBatch(X, Y);
      const h1 = await single.fit(X, Y, { batchSize: 10, epochs: 1, shuffle: false, classWeight, verbose: 0 });
      const [logs, h2] = await withParallel(parallel, gpus, async (p) => [await p.trainOnBatch(X, Y), await p.fit(X, Y, { batchSize: 10, epochs: 1, shuffle: false, classWeight, verbose: 0 })] as const);
      assert.ok(Math.abs(logs.loss - expected.loss) < 1e-5 * Math.abs(expected.loss), `${gpus} replicas: loss ${logs.loss} vs ${expected.loss}`);
      assert.equal(logs.accuracy, expected.accuracy);
      assert.ok(Math.abs(h2.history.loss[0] - h1.history.loss[0]) < 1e-5, `${gpus} replicas: weighted loss ${h2.history.loss[0]} vs ${h1.history.loss[0]}`);
      const d = maxRelDiff(parallel, single);
      assert.ok(d < 1e-5, `${gpus} replicas: weights differ by ${d} (relative)`);
      // The frozen layer did not move; the template's step count is the single model's.
      assert.equal(parallel.compiled!.step, single.compiled!.step);
      release(single, parallel);
      assert.equal(ops.memory().numTensors, before, 'no tensor is left on the main thread');
    }
  });

test('a Dataset source (fromTensors, batch) trains the same as arrays on one device; predict and evaluate come back in order', async () => {
  const single = mlp('adam');
  const parallel = mlp('adam');
  const data = () => fromTensors(X, Y).pipe(batch(4));
  await single.fit(data(), { epochs: 2, verbose: 0 });
  await withParallel(parallel, 3, async (p) => {
    await p.fit(data(), { epochs: 2, verbose: 0 });
    const d = maxRelDiff(parallel, single);
    assert.ok(d < 1e-5, `weights differ by ${d}`);
    const got = (await p.predict(X, { batchSize: 7 })) as ops.Tensor;
    const want = single.predict(X) as ops.Tensor;
    assert.deepEqual(got.shape, [10, 3]);
    assert.ok(ops.max(ops.abs(ops.sub(got, want))).dataSync()[0] < 1e-6);
    const fromStream = (await p.predictDataset(data())) as ops.Tensor;
    assert.ok(ops.max(ops.abs(ops.sub(fromStream, want))).dataSync()[0] < 1e-6);
    const logs = await p.evaluate(X, Y, { batchSize: 3 });
    const expected = single.evaluate(X, Y, { batchSize: 3 });
    assert.ok(Math.abs(logs.loss - expected.loss) < 1e-6 && logs.accuracy === expected.accuracy, `${JSON.stringify(logs)} vs ${JSON.stringify(expected)}`);
    ops.dispose([got, want, fromStream]);
  });
  single.dispose();
  parallel.dispose();
});

test('a Dataset with stepsPerEpoch, carried over between epochs: staged batches take none out of turn (History and weights as one device)', async () => {
  // 5 batches per pass, 3 per epoch: epoch 2 starts in the pass epoch 1 left; the loop stages each next batch while a step runs.
  const single = mlp(rx.SGD({ learning_rate: 0.1, momentum: 0.9 }));
  const parallel = mlp(rx.SGD({ learning_rate: 0.1, momentum: 0.9 }));
  const data = () => fromTensors(X, Y).pipe(batch(2));
  const options = { epochs: 4, stepsPerEpoch: 3, verbose: 0 as const };
  const h1 = await single.fit(data(), options);
  await withParallel(parallel, 2, async (p) => {
    const h2 = await p.fit(data(), options);
    h1.history.loss.forEach((l, i) => assert.ok(Math.abs(l - h2.history.loss[i]) < 1e-5, `loss of epoch ${i}: ${h2.history.loss[i]} vs ${l}`));
    assert.ok(maxRelDiff(parallel, single) < 1e-5);
  });
  release(single, parallel);
});

test('a Dataset that fails while the next batch is staged: fit rejects with its error after the last good batch ends, and the run goes on', async () => {
  const parallel = mlp('adam');
  await withParallel(parallel, 2, async (p) => {
    await p.fit(fromTensors(X, Y).pipe(batch(5)), { verbose: 0 }); // the replicas and the optimizer slots
    const base = ops.memory().numTensors;
    const failing = fromGenerator(function* () {
      for (let k = 0; k < 3; k++) yield { x: ops.slice(X, [2 * k], [2]), y: ops.slice(Y, [2 * k], [2]) };
      throw new Error('disk gone');
    });
    const ended: number[] = [];
    const seen = rx.LambdaCallback({ onBatchEnd: (b) => void ended.push(b) });
    await assert.rejects(p.fit(failing, { epochs: 2, verbose: 0, callbacks: [seen] }), /disk gone/);
    assert.deepEqual(ended, [0, 1, 2]);
    assert.equal(ops.memory().numTensors, base, 'every batch and result freed');
    // Nothing was left staged on the replicas: the next call trains.
    const logs = await p.trainOnBatch(X, Y);
    assert.ok(Number.isFinite(logs.loss));
  });
  release(parallel);
});

test('unsubscribing from fit$ mid-epoch, a batch staged, leaves the run healthy: no replica waits out its timeout, and the next call trains', async () => {
  const parallel = mlp('adam');
  // A short bound on every wait between replicas: a staged step left waiting would fail the run after it.
  const p = multiGpuModel(parallel, { gpus: 2, timeoutMs: 1000 });
  try {
    await p.trainOnBatch(X, Y); // the replicas start
    await new Promise<void>((resolve, reject) => {
      const sub = p.fit$(X, Y, { batchSize: 2, epochs: 1, shuffle: false }).subscribe({
        next: (e) => e.type === 'batchEnd' && e.batch === 1 && (sub.unsubscribe(), resolve()),
        error: reject,
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // A replica that timed out would have failed the run, and a failed run ends its workers.
    assert.deepEqual(p.devices.map((d) => d.started), [true, true]);
    const logs = await p.trainOnBatch(X, Y);
    assert.ok(Number.isFinite(logs.loss));
  } finally {
    await p.close();
  }
  release(parallel);
});

test('fit for 3 epochs with validation, EarlyStopping(restoreBestWeights) and ModelCheckpoint: the History, the weights and the checkpoint equal single-device training within 1e-4', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-dp-'));
  const run = async (fit: (options: rx.FitOptions & { callbacks: rx.Callback[] }) => Promise<rx.History>, file: string) => {
    const callbacks = [rx.EarlyStopping({ monitor: 'val_loss', patience: 1, restoreBestWeights: true }), rx.ModelCheckpoint(path.join(dir, file), { saveBestOnly: true })];
    return fit({ batchSize: 4, epochs: 3, shuffle: true, validationSplit: 0.3, verbose: 0, callbacks });
  };
  try {
    const before = ops.memory().numTensors;
    const single = mlp(rx.Adam({ learning_rate: 0.05 }));
    const parallel = mlp(rx.Adam({ learning_rate: 0.05 }));
    const h1 = await run((o) => single.fit(X, Y, o), 'single.h5');
    const h2 = await withParallel(parallel, 2, (p) => run((o) => p.fit(X, Y, o), 'parallel.h5'));
    assert.deepEqual(Object.keys(h2.history).sort(), Object.keys(h1.history).sort());
    for (const k of Object.keys(h1.history))
      h1.history[k].forEach((v, i) => assert.ok(Math.abs((h2.history[k][i] as number) - (v as number)) < 1e-4, `${k}[${i}]: ${h2.history[k][i]} vs ${v}`));
    assert.ok(maxRelDiff(parallel, single) < 1e-4);
    const a = await rx.loadModel(path.join(dir, 'single.h5'));
    const b = await rx.loadModel(path.join(dir, 'parallel.h5'));
    assert.ok(maxRelDiff(b, a) < 1e-4);
    assert.equal(b.compiled!.step, a.compiled!.step);
    release(a, b, single, parallel);
    assert.equal(ops.memory().numTensors, before, 'no tensor is left on the main thread');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('staged steps: a learning rate set at a batch end, weights read at a batch end and a stop mid-epoch give the single-device History and weights', async () => {
  // Each of these meets a step the replicas already started on (the next batch is staged while a step runs): it must be dropped, not applied.
  const steer = (seen: number[]) =>
    rx.LambdaCallback({
      onBatchEnd(batch, _logs, e) {
        if (e.epoch === 0 && batch === 1) e.control.setLearningRate(0.05);
        if (e.epoch === 1 && batch === 3) seen.push(ops.tidy(() => ops.sum(Object.values(e.control.state.params).flatMap((p) => Object.values(p as Record<string, ops.Tensor>))[0]).dataSync()[0]));
        if (e.epoch === 2 && batch === 0) e.control.stop();
      },
    });
  const single = mlp(rx.SGD({ learning_rate: 0.1, momentum: 0.9 }));
  const parallel = mlp(rx.SGD({ learning_rate: 0.1, momentum: 0.9 }));
  const seenSingle: number[] = [];
  const seenParallel: number[] = [];
  const h1 = await single.fit(X, Y, { batchSize: 2, epochs: 4, shuffle: false, verbose: 0, callbacks: [steer(seenSingle)] });
  await withParallel(parallel, 2, async (p) => {
    const h2 = await p.fit(X, Y, { batchSize: 2, epochs: 4, shuffle: false, verbose: 0, callbacks: [steer(seenParallel)] });
    assert.deepEqual(h2.epoch, h1.epoch);
    h1.history.loss.forEach((l, i) => assert.ok(Math.abs(l - h2.history.loss[i]) < 1e-5, `loss of epoch ${i}: ${h2.history.loss[i]} vs ${l}`));
    assert.equal(seenParallel.length, 1);
    assert.ok(Math.abs(seenParallel[0] - seenSingle[0]) < 1e-4 * (1 + Math.abs(seenSingle[0])), `weights read at a batch end: ${seenParallel[0]} vs ${seenSingle[0]}`);
    assert.ok(maxRelDiff(parallel, single) < 1e-5);
    // The run goes on from there: a step after the stop trains the same.
    const l1 = single.trainOnBatch(X, Y);
    const l2 = await p.trainOnBatch(X, Y);
    assert.ok(Math.abs(l1.loss - l2.loss) < 1e-5);
  });
  assert.ok(maxRelDiff(parallel, single) < 1e-5);
  release(single, parallel);
});

/** Keras's steps_per_execution over 2 replicas, checked against single-device training with one step a call. */
async function stepsPerExecution(): Promise<void> {
  const steer = (ends: [number, number][]) =>
    rx.LambdaCallback({
      onBatchEnd(batch, _logs, e) {
        ends.push([e.epoch, batch]);
        if (e.epoch === 0 && batch === 2) e.control.setLearningRate(0.05);
      },
    });
  const before = ops.memory().numTensors;
  const single = mlp(rx.SGD({ learning_rate: 0.1, momentum: 0.9 }));
  const parallel = mlp(rx.SGD({ learning_rate: 0.1, momentum: 0.9 }), 7, 3);
  const [endsSingle, endsParallel]: [number, number][][] = [[], []];
  const options = { batchSize: 1, epochs: 2, shuffle: true, verbose: 0 as const };
  const h1 = await single.fit(X, Y, { ...options, callbacks: [steer(endsSingle)] });
  await withParallel(parallel, 2, async (p) => {
    const h2 = await p.fit(X, Y, { ...options, callbacks: [steer(endsParallel)] });
    assert.deepEqual(endsParallel, [0, 1].flatMap((epoch) => [2, 5, 8, 9].map((batch) => [epoch, batch])));
    assert.deepEqual(h2.history.accuracy, h1.history.accuracy);
    h1.history.loss.forEach((l, i) => assert.ok(Math.abs(l - h2.history.loss[i]) < 1e-5, `loss of epoch ${i}: ${h2.history.loss[i]} vs ${l}`));
  });
  assert.ok(maxRelDiff(parallel, single) < 1e-5, 'the weights');
  assert.equal(parallel.compiled!.step, single.compiled!.step);
  release(single, parallel);
  assert.equal(ops.memory().numTensors, before, 'no tensor is left on the main thread');
}

test("stepsPerExecution 3 (Keras's steps_per_execution): the replicas take 3 steps a call; the batch ends after batches 2, 5, 8 and 9, a learning rate set at one, the History and the weights are single-device training's (one step a call) within 1e-5", stepsPerExecution);

test('during fit the template follows the replicas: read at batch ends (epochs 0 and 1), it holds the weights trained so far, and reading it changes nothing in the run', async () => {
  const at = [[0, 2], [1, 3]];
  const read = (seen: number[][], weights: (e: rx.FitEvent & { type: 'batchEnd' }) => ops.Tensor[]) =>
    rx.LambdaCallback({
      onBatchEnd(batch, _logs, e) {
        if (!at.some(([epoch, b]) => e.epoch === epoch && batch === b)) return;
        const w = weights(e);
        seen.push(w.flatMap((t) => [...t.dataSync()]));
        ops.dispose(w);
      },
    });
  const single = mlp(rx.Adam({ learning_rate: 0.05 }));
  const parallel = mlp(rx.Adam({ learning_rate: 0.05 }));
  const unread = mlp(rx.Adam({ learning_rate: 0.05 }));
  const seenSingle: number[][] = [];
  const seenParallel: number[][] = [];
  // The single model's own weights are committed at epoch ends: its loop's state is the reference.
  const stateWeights = (e: { control: rx.TrainingControl }) => single.layers.flatMap((l) => Object.values((e.control.state.params[l.name] ?? {}) as Record<string, ops.Tensor>).map((t) => ops.clone(t)));
  const options = { batchSize: 2, epochs: 3, shuffle: false, verbose: 0 as const };
  await single.fit(X, Y, { ...options, callbacks: [read(seenSingle, stateWeights)] });
  const h = await withParallel(parallel, 2, (p) => p.fit(X, Y, { ...options, callbacks: [read(seenParallel, () => parallel.getWeights())] }));
  const hUnread = await withParallel(unread, 2, (p) => p.fit(X, Y, options));
  assert.equal(seenParallel.length, 2, 'read twice');
  seenParallel.forEach((w, k) => {
    assert.equal(w.length, seenSingle[k].length, 'as many weights as the single model');
    const worst = Math.max(...w.map((v, i) => Math.abs(v - seenSingle[k][i]) / (Math.abs(seenSingle[k][i]) + 1e-3)));
    assert.ok(worst < 1e-4, `the template read at epoch ${at[k][0]}, batch ${at[k][1]}: weights differ by ${worst} (relative)`);
  });
  assert.notDeepEqual(seenParallel[0], seenParallel[1], 'the template moved on with the replicas after the first read');
  // A read cancels a staged step, which the replicas then take again: bit for bit the run without reads.
  assert.deepEqual(h.history, hUnread.history, 'the History of the run without reads');
  const [a, b] = [parallel.getWeights(), unread.getWeights()];
  a.forEach((t, i) => assert.deepEqual(t.dataSync(), b[i].dataSync(), `weight ${i}: as in the run without reads`));
  ops.dispose([...a, ...b]);
  release(single, parallel, unread);
});

test('callbacks that steer training reach the replicas: a learning-rate schedule and setWeights', async () => {
  const single = mlp(rx.SGD({ learning_rate: 0.1 }));
  const parallel = mlp(rx.SGD({ learning_rate: 0.1 }));
  const schedule = () => rx.LearningRateScheduler((epoch) => 0.1 / (epoch + 1));
  await single.fit(X, Y, { batchSize: 5, epochs: 3, shuffle: false, verbose: 0, callbacks: [schedule()] });
  await withParallel(parallel, 2, async (p) => {
    await p.fit(X, Y, { batchSize: 5, epochs: 3, shuffle: false, verbose: 0, callbacks: [schedule()] });
    assert.ok(maxRelDiff(parallel, single) < 1e-5);
    // The template's weights set by hand are what the replicas train next.
    parallel.setWeights(single.getWeights());
    const l1 = single.trainOnBatch(X, Y);
    const l2 = await p.trainOnBatch(X, Y);
    assert.ok(Math.abs(l1.loss - l2.loss) < 1e-6);
    assert.ok(maxRelDiff(parallel, single) < 1e-5);
  });
  single.dispose();
  parallel.dispose();
});

test("BatchNormalization: each replica normalises its own shard (as Keras's multi_gpu_model); moving_mean becomes the whole batch's, moving_variance the shards' weighted mean", async () => {
  const make = () => {
    const m = new rx.Sequential({ layers: [rx.Dense({ units: 4, input_shape: [5] }), rx.BatchNormalization({ momentum: 0.5 })] });
    m.build(3);
    m.compile({ optimizer: rx.SGD({ learning_rate: 0.1 }), loss: 'mse' });
    return m;
  };
  const single = make();
  const parallel = make();
  const y = ops.zeros([10, 4]);
  single.trainOnBatch(X, y);
  await withParallel(parallel, 4, (p) => p.trainOnBatch(X, y));
  const bn = (m: rx.Model) => (m.variables!.state[m.layers[1].name] as Record<string, ops.Tensor>);
  const mean = (m: rx.Model) => Array.from(bn(m).moving_mean.dataSync());
  mean(parallel).forEach((v, i) => assert.ok(Math.abs(v - mean(single)[i]) < 1e-5, `moving_mean[${i}] ${v} vs ${mean(single)[i]}`));
  // Reference for the variance: the same update from each shard's own variance, weighted by its rows (Keras's get_slice: 2, 2, 2, 4).
  const pre = make();
  const hidden = ops.tidy(() => ops.add(ops.matMul(X, pre.getWeights()[0]), pre.getWeights()[1]));
  const expected = [0, 0, 0, 0];
  for (const [s, e] of [[0, 2], [2, 4], [4, 6], [6, 10]]) {
    const { variance } = ops.moments(ops.slice(hidden, [s], [e - s]), 0);
    const v = variance.dataSync(); // biased, as tf.keras 2 for a 2-D input
    for (let i = 0; i < 4; i++) expected[i] += ((e - s) / 10) * (0.5 * 1 + 0.5 * v[i]);
  }
  Array.from(bn(parallel).moving_variance.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5 * (1 + expected[i]), `moving_variance[${i}] ${v} vs ${expected[i]}`));
  ops.dispose([y, hidden]);
  for (const m of [single, parallel, pre]) m.dispose();
});

test('without metrics the replicas send no predictions back; the losses and weights are still the single-device ones', async () => {
  const make = () => {
    const m = mlp('adam');
    m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' }, 7);
    return m;
  };
  const single = make();
  const parallel = make();
  const singleLogs = [single.trainOnBatch(X, Y), single.trainOnBatch(X, Y)];
  const parallelLogs = await withParallel(parallel, 3, async (p) => [await p.trainOnBatch(X, Y), await p.trainOnBatch(X, Y)]);
  parallelLogs.forEach((logs, i) => {
    assert.deepEqual(Object.keys(logs), ['loss']);
    assert.ok(Math.abs(logs.loss - singleLogs[i].loss) < 1e-5, `step ${i}: loss ${logs.loss} vs ${singleLogs[i].loss}`);
  });
  assert.ok(maxRelDiff(parallel, single) < 1e-5);
  release(single, parallel);
});

test('a model with fewer weights than the replicas have vectors: the replicas with no part of the update still train in step', async () => {
  const make = () => {
    const m = new rx.Sequential({ layers: [rx.Dense({ units: 1, input_shape: [5] })] }); // 6 weights: all go to the last of 4 replicas
    m.build(7);
    m.compile({ optimizer: 'adam', loss: 'mse' }, 7);
    return m;
  };
  const single = make();
  const parallel = make();
  const y = ops.randomNormal([10, 1], 0, 1, 'float32', 4);
  const h1 = await single.fit(X, y, { batchSize: 4, epochs: 2, shuffle: false, verbose: 0 });
  const h2 = await withParallel(parallel, 4, (p) => p.fit(X, y, { batchSize: 4, epochs: 2, shuffle: false, verbose: 0 }));
  h1.history.loss.forEach((l, i) => assert.ok(Math.abs(h2.history.loss[i] - l) < 1e-5, `epoch ${i}: loss ${h2.history.loss[i]} vs ${l}`));
  assert.ok(maxRelDiff(parallel, single) < 1e-5);
  ops.dispose(y);
  release(single, parallel);
});

test("a loss with reduction 'sum' adds up over the replicas' shards (two outputs, one summed, one averaged, with loss weights and an L2 penalty): losses and weights as one device", async () => {
  const make = () => {
    const input = rx.Input({ shape: [5] });
    const hidden = rx.Dense({ units: 6, activation: 'tanh', kernel_regularizer: { class_name: 'L2', config: { l2: 0.01 } } }).call(input);
    const classes = rx.Dense({ units: 3, activation: 'softmax', name: 'classes' }).call(hidden);
    const value = rx.Dense({ units: 1, name: 'value' }).call(hidden);
    const m = new rx.Model({ inputs: input, outputs: [classes, value] });
    m.build(7);
    m.compile({ optimizer: rx.SGD({ learning_rate: 0.02 }), loss: [rx.losses.CategoricalCrossentropy({ reduction: 'sum' }), 'mse'], lossWeights: [1, 0.5] }, 7);
    return m;
  };
  const value = ops.randomNormal([10, 1], 0, 1, 'float32', 5);
  const single = make();
  const parallel = make();
  const expected = single.trainOnBatch(X, [Y, value]);
  const h1 = await single.fit(X, [Y, value], { batchSize: 4, epochs: 1, shuffle: false, verbose: 0 });
  const [logs, h2] = await withParallel(parallel, 3, async (p) => [await p.trainOnBatch(X, [Y, value]), await p.fit(X, [Y, value], { batchSize: 4, epochs: 1, shuffle: false, verbose: 0 })] as const);
  for (const key of ['loss', 'classes_loss', 'value_loss']) {
    assert.ok(Math.abs(logs[key] - expected[key]) < 1e-5 * (1 + Math.abs(expected[key])), `${key}: ${logs[key]} vs ${expected[key]}`);
    assert.ok(Math.abs(h2.history[key][0] - h1.history[key][0]) < 1e-5 * (1 + Math.abs(h1.history[key][0])), `fit ${key}: ${h2.history[key][0]} vs ${h1.history[key][0]}`);
  }
  assert.ok(maxRelDiff(parallel, single) < 1e-5);
  ops.dispose(value);
  release(single, parallel);
});

test('stepsPerExecution 3 with child processes (the batches cross as arrays, the state with the answer): as single-device training', async () => {
  await configureDevices({ cpuWorkers: 2, threadsPerWorker: 1, transport: 'process' });
  try {
    await stepsPerExecution();
  } finally {
    await configureDevices({ cpuWorkers: 4, threadsPerWorker: 1 });
  }
});
