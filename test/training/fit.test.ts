import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { take, toArray, lastValueFrom, tap } from 'rxjs';
import { backendReady } from '../helpers/backend.js';
import * as rx from '../../src/index.js';

await backendReady;

function data(n: number, seed = 1) {
  const x = tf.randomNormal([n, 3], 0, 1, 'float32', seed);
  const labels = tf.tidy(() => tf.cast(tf.greater(tf.sum(x, 1), 0), 'int32'));
  const y = tf.oneHot(labels, 2);
  labels.dispose();
  return { x, y };
}

function mlp(seed = 1) {
  const model = new rx.Sequential({
    layers: [rx.Dense({ units: 8, activation: 'relu', input_shape: [3] }), rx.Dense({ units: 2, activation: 'softmax' })],
  });
  model.build(seed);
  return model;
}

test('training matches tfjs-layers model.fit step for step (SGD, no shuffle) within 1e-5', async () => {
  const { x, y } = data(32);
  const ours = mlp();
  const peer = tfl.sequential({
    layers: [tfl.layers.dense({ units: 8, activation: 'relu', inputShape: [3] }), tfl.layers.dense({ units: 2, activation: 'softmax' })],
  });
  peer.setWeights(ours.getWeights());
  ours.compile({ optimizer: rx.SGD({ learning_rate: 0.1 }), loss: 'categorical_crossentropy' });
  peer.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  const h = await ours.fit(x, y, { batchSize: 8, epochs: 3, shuffle: false, verbose: 0 });
  const ph = await peer.fit(x, y, { batchSize: 8, epochs: 3, shuffle: false, verbose: 0 });
  const a = ours.getWeights();
  const b = peer.getWeights();
  a.forEach((w, i) => {
    const d = tf.max(tf.abs(tf.sub(w, b[i]))).dataSync()[0];
    assert.ok(d < 1e-5, `weight ${i} differs by ${d}`);
  });
  h.history.loss.forEach((l, i) => assert.ok(Math.abs(l - (ph.history.loss[i] as number)) < 1e-5, `epoch ${i} loss ${l} vs ${ph.history.loss[i]}`));
  tf.dispose([x, y, ...a]);
  ours.dispose();
  peer.dispose();
});

test('validationSplit validates on the last rows, unshuffled, every epoch', async () => {
  const { x, y } = data(50, 3);
  const model = mlp(2);
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  const lastX = tf.slice(x, [40], [10]); // Keras: split_at = int(50 * (1 - 0.2)) = 40
  const lastY = tf.slice(y, [40], [10]);
  const seen: [number, number][] = [];
  await lastValueFrom(
    model.fit$(x, y, { validationSplit: 0.2, epochs: 3, batchSize: 8 }).pipe(
      tap((e) => {
        if (e.type === 'epochEnd') seen.push([e.logs.val_loss, model.evaluate(lastX, lastY).loss]);
        if (e.type === 'fitStart') assert.equal(e.params.samples, 40);
      }),
    ),
  );
  assert.equal(seen.length, 3);
  for (const [val, direct] of seen) assert.ok(Math.abs(val - direct) < 1e-6, `val_loss ${val} vs evaluate on the last rows ${direct}`);
  tf.dispose([x, y, lastX, lastY]);
  model.dispose();
});

test('History has one list per log, val_ included', async () => {
  const { x, y } = data(20);
  const model = mlp();
  model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  const h = await model.fit(x, y, { epochs: 2, validationData: [x, y], verbose: 0 });
  assert.deepEqual(Object.keys(h.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
  assert.equal(h.history.loss.length, 2);
  assert.deepEqual(h.epoch, [0, 1]);
  tf.dispose([x, y]);
  model.dispose();
});

test('a seed makes training reproducible bit for bit; another seed differs', async () => {
  const { x, y } = data(40);
  const run = async (seed: number) => {
    const model = mlp(seed);
    model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' }, seed);
    await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
    const w = model.getWeights().map((t) => Array.from(t.dataSync()));
    model.dispose();
    return w;
  };
  const a = await run(7);
  const b = await run(7);
  const c = await run(8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  tf.dispose([x, y]);
});

test('training reshuffles every epoch (batches differ) and sees every sample once', async () => {
  const { x, y } = data(16);
  const model = mlp();
  model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy' }, 3);
  const orders: number[][] = [];
  const setup = model.compiled as { key: number };
  for (let epoch = 0; epoch < 3; epoch++) {
    const batches = (await import('../../src/training/data.js')).epochBatches(16, 4, true, rx.foldIn(setup.key, epoch));
    orders.push(batches.flatMap((b) => Array.from(b)));
  }
  for (const o of orders) assert.deepEqual([...o].sort((a, b) => a - b), [...Array(16).keys()]);
  assert.notDeepEqual(orders[0], orders[1]);
  assert.notDeepEqual(orders[1], orders[2]);
  tf.dispose([x, y]);
  model.dispose();
});

test('memory returns to baseline after fit, evaluate, predict, trainOnBatch, a cancelled fit$, and a failing step', async () => {
  const { x, y } = data(64);
  const model = mlp();
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  await model.fit(x, y, { epochs: 1, verbose: 0 }); // creates the optimizer slots, which persist as in Keras
  const base = tf.memory().numTensors;
  await model.fit(x, y, { epochs: 2, batchSize: 16, validationSplit: 0.25, verbose: 0 });
  assert.equal(tf.memory().numTensors, base, 'fit');
  model.evaluate(x, y);
  assert.equal(tf.memory().numTensors, base, 'evaluate');
  tf.dispose(model.predict(x));
  assert.equal(tf.memory().numTensors, base, 'predict');
  model.trainOnBatch(x, y);
  assert.equal(tf.memory().numTensors, base, 'trainOnBatch');
  const events = await lastValueFrom(model.fit$(x, y, { epochs: 5, batchSize: 8 }).pipe(take(4), toArray()));
  assert.equal(events[3].type, 'batchEnd');
  // The loop notices the cancellation at its next step boundary, then frees what it holds.
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.equal(tf.memory().numTensors, base, 'cancelled fit$');
  let calls = 0;
  let failAt = Infinity;
  const failing = (yTrue: tf.Tensor, yPred: tf.Tensor) => {
    if (++calls === failAt) throw new Error('boom');
    return tf.mean(tf.square(tf.sub(yTrue, yPred)), -1);
  };
  model.compile({ optimizer: 'adam', loss: failing });
  await model.fit(x, y, { epochs: 1, verbose: 0 }); // compile reset the slots; make them again
  const base2 = tf.memory().numTensors;
  calls = 0;
  failAt = 3;
  await assert.rejects(model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 }), /boom/);
  assert.equal(tf.memory().numTensors, base2, 'failing step');
  tf.dispose([x, y]);
  model.dispose();
});

test('bad input is a typed error naming the argument, raised before any step', async () => {
  const { x, y } = data(10);
  const model = mlp();
  model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy' });
  const before = model.getWeights().map((t) => Array.from(t.dataSync()));
  const expectError = async (p: Promise<unknown>, argument: string) => {
    await assert.rejects(p, (e: Error) => {
      assert.ok(e instanceof rx.RxKerasError, `${e.name}: ${e.message}`);
      assert.match(e.message, new RegExp(argument));
      return true;
    });
  };
  await expectError(model.fit(x, y, { batchSize: 0, verbose: 0 }), 'batchSize');
  await expectError(model.fit(x, y, { validationSplit: 1, verbose: 0 }), 'validationSplit');
  await expectError(model.fit(x, y, { validationSplit: -0.1, verbose: 0 }), 'validationSplit');
  const y9 = tf.slice(y, [0], [9]);
  await expectError(model.fit(x, y9, { verbose: 0 }), 'y');
  const wrong = tf.zeros([10, 4]);
  await expectError(model.fit(wrong, y, { verbose: 0 }), 'input');
  assert.throws(() => rx.Dense({ units: 3, activation: 'relux' }), (e: Error) => e instanceof rx.UnknownNameError && /relux/.test(e.message) && /relu/.test(e.message));
  assert.throws(() => model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropyy' }), rx.UnknownNameError);
  assert.throws(() => model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy', stepsPerExecution: 0 }), (e: Error) => e instanceof rx.InvalidArgumentError && /stepsPerExecution/.test(e.message));
  const after = model.getWeights().map((t) => Array.from(t.dataSync()));
  assert.deepEqual(after, before, 'no step ran');
  tf.dispose([x, y, y9, wrong]);
  model.dispose();
});

test('Dropout and L2 act in training only', () => {
  const dense = rx.Dense({ units: 4, input_shape: [6], kernel_regularizer: { class_name: 'L2', config: { l2: 0.5 } } });
  const model = new rx.Sequential({ layers: [dense, rx.Dropout({ rate: 0.5 })] }).build(1);
  model.compile({ optimizer: rx.SGD({ learning_rate: 0 }), loss: 'mse' });
  const x = tf.randomNormal([8, 6], 0, 1, 'float32', 5);
  const y = tf.zeros([8, 4]);
  const kernel = (model.variables!.params[dense.name] as Record<string, tf.Tensor>).kernel;
  const penalty = 0.5 * tf.sum(tf.square(kernel)).dataSync()[0];
  const inference = model.predict(x) as tf.Tensor;
  const mse = tf.mean(tf.square(inference)).dataSync()[0];
  // evaluate: inference mode, no dropout, no penalty.
  assert.ok(Math.abs(model.evaluate(x, y).loss - mse) < 1e-5);
  // a training step: the penalty is in the loss, and dropout zeroes about half of the outputs.
  const trained = rx.trainStep(model, (model.compiled as { compiled: rx.Compiled }).compiled, {
    params: model.variables!.params, state: model.variables!.state,
    optState: (model.compiled as { compiled: rx.Compiled }).compiled.optimizer.init({ [dense.name]: model.variables!.params[dense.name] }),
    step: 0, key: rx.makeKey(3),
  }, { x: [x], y: [y] });
  const out = trained.result.predictions[0];
  const zeros = tf.sum(tf.cast(tf.equal(out, 0), 'float32')).dataSync()[0];
  assert.ok(zeros > 4 && zeros < 28, `dropout zeroed ${zeros} of 32`);
  const dataLoss = tf.mean(tf.square(out)).dataSync()[0];
  assert.ok(Math.abs(trained.result.loss.dataSync()[0] - (dataLoss + penalty)) < 1e-4);
  tf.dispose([x, y, inference]);
  model.dispose();
});

test("stepsPerExecution 4 (Keras's steps_per_execution): the batch callbacks see batches 3, 7 and 9 of each epoch, with the logs so far; History and weights equal those of one step per call exactly, and a stop at a batch end ends the epoch there", async () => {
  const { x, y } = data(10);
  const train = async (stepsPerExecution: number, stopAt?: number) => {
    const model = mlp();
    model.compile({ optimizer: rx.SGD({ learning_rate: 0.1, momentum: 0.9 }), loss: 'categorical_crossentropy', metrics: ['accuracy'], stepsPerExecution }, 3);
    const ends: [number, number, number][] = [];
    const callback = rx.LambdaCallback({
      onBatchEnd(batch, logs, e) {
        ends.push([e.epoch, batch, logs.loss as number]);
        if (e.epoch === 1 && batch === stopAt) e.control.stop();
      },
    });
    const history = await model.fit(x, y, { batchSize: 1, epochs: 2, verbose: 0, callbacks: [callback] });
    const weights = model.getWeights().map((t) => Array.from(t.dataSync()));
    model.dispose();
    return { ends, history, weights };
  };
  const one = await train(1);
  const four = await train(4);
  assert.deepEqual(four.ends.map(([epoch, batch]) => [epoch, batch]), [0, 1].flatMap((epoch) => [3, 7, 9].map((batch) => [epoch, batch])));
  for (const [epoch, batch, loss] of four.ends) assert.equal(loss, one.ends[epoch * 10 + batch][2], `the logs after batch ${batch} of epoch ${epoch}`);
  assert.deepEqual(four.history.history, one.history.history);
  assert.deepEqual(four.weights, one.weights);
  const stopped = await train(4, 3);
  assert.deepEqual(stopped.ends.map(([epoch, batch]) => [epoch, batch]), [[0, 3], [0, 7], [0, 9], [1, 3]], 'a stop after the run of batches 0-3');
  tf.dispose([x, y]);
});
