import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ops from '../../src/ops/index.js';
import { ConfigDecodeError, InvalidArgumentError, UnknownNameError } from '../../src/core/errors.js';
import { compileArgsError, lossAndMetrics, loadModel, saveModel, withH5Read } from '../../src/models/io.js';
import { compile } from '../../src/training/index.js';
import type { TrainingSetup } from '../../src/training/types.js';
import * as rx from '../../src/index.js';
import { FIXTURES } from './helpers.js';
import { assertClose, ref } from '../losses/reference.js';

// The loss and metrics of real tf.keras 2.4 training configs, and every form
// tf.keras 2.x writes for `loss`, `metrics` and `weighted_metrics`.
const tfkeras = `${FIXTURES}dl4j/tfkeras/`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-training-config-'));
const WHERE = 'model.h5@training_config';

function setupOf(model: rx.Model): TrainingSetup {
  assert.ok(model.compiled, 'loaded compiled');
  return model.compiled as TrainingSetup;
}

const rows = (t: ops.Tensor) => t.arraySync() as number[][];
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test("tf.keras 2.4 issue_9349.hdf5: metrics [[MeanMetricWrapper, ...]] load compiled; evaluate logs Keras's names", async () => {
  const warnings: string[] = [];
  const model = await loadModel(`${tfkeras}issue_9349.hdf5`, { onWarning: (w) => warnings.push(w) });
  const setup = setupOf(model);
  assert.deepEqual(warnings, [], 'the Adam state fits');
  assert.equal(setup.step, 12, 'Adam/iter:0');
  assert.equal(setup.compiled.losses[0].className, 'CategoricalCrossentropy');
  assert.deepEqual(
    setup.compiled.metrics.map((m) => [m.name, m.metric.className, m.metric.config.fn, m.weighted]),
    [
      ['accuracy', 'MeanMetricWrapper', 'categorical_accuracy', false],
      ['categorical_accuracy', 'MeanMetricWrapper', 'categorical_accuracy', false],
    ],
  );
  // Eight sequences of 6 word ids in [0, 5), two classes.
  const ids = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [0, 1, 2, 3, 4, 5].map((j) => (i * 7 + j * 3 + ((i * j) % 4)) % 5));
  const x = ops.tensor2d(ids);
  const pred = rows(model.predict(x) as ops.Tensor);
  // Every third row labelled against the prediction.
  const targets = pred.map((p, i) => {
    const top = p[0] > p[1] ? 0 : 1;
    const label = i % 3 === 0 ? 1 - top : top;
    return [label === 0 ? 1 : 0, label === 1 ? 1 : 0];
  });
  const logs = model.evaluate(x, ops.tensor2d(targets), { verbose: 0, batchSize: 3 });
  assert.deepEqual(Object.keys(logs), ['loss', 'accuracy', 'categorical_accuracy']);
  const acc = meanOf(ref.categoricalAccuracy(targets, pred));
  assert.ok(acc > 0 && acc < 1, 'the targets disagree with some predictions');
  assertClose(logs.accuracy, acc);
  assertClose(logs.categorical_accuracy, acc);
  assertClose(logs.loss, meanOf(ref.cce()(targets, pred)));

  // Saved again, the metrics keep the form Keras wrote, and load the same.
  const file = path.join(tmp, 'issue_9349.h5');
  await saveModel(model, file);
  const [original, saved] = await Promise.all(
    [`${tfkeras}issue_9349.hdf5`, file].map((f) => withH5Read(f, (h) => JSON.parse(h.attrs['training_config'].value as string).metrics)),
  );
  assert.deepEqual(saved, original);
  const back = await loadModel(file);
  assert.deepEqual(Object.keys(back.evaluate(x, ops.tensor2d(targets), { verbose: 0 })), ['loss', 'accuracy', 'categorical_accuracy']);
  model.dispose();
  back.dispose();
  x.dispose();
});

test('tf.keras 2.4 some_loss.h5: loss { class_name: SparseCategoricalCrossentropy, from_logits: true } with metrics ["accuracy"]', async () => {
  const model = await loadModel(`${tfkeras}some_loss.h5`);
  const setup = setupOf(model);
  const loss = setup.compiled.losses[0];
  assert.equal(loss.className, 'SparseCategoricalCrossentropy');
  assert.equal(loss.config.from_logits, true);
  assert.deepEqual(
    setup.compiled.metrics.map((m) => m.name),
    ['accuracy'],
  );
  const x = ops.randomUniform([5, 28, 28], 0, 1, 'float32', 3);
  const logits = rows(model.predict(x) as ops.Tensor);
  const labels = [3, 1, 4, 1, 5];
  const logs = model.evaluate(x, ops.tensor1d(labels), { verbose: 0 });
  assertClose(logs.loss, meanOf(ref.scceLogits(labels, logits)));
  assertClose(logs.accuracy, meanOf(ref.sparseCategoricalAccuracy(labels, logits)), 0, 0);
  model.dispose();
  x.dispose();
});

// A two-output model's outputs: 'probs' (3 classes), 'flag' (1 unit).
const OUTPUTS = ['probs', 'flag'];
const SHAPES = [
  [null, 3],
  [null, 1],
];

/** Compiles a training config's loss and metrics as loadModel does: `[log name, weighted]` of each metric. */
function metricsOf(tc: Record<string, unknown>, outputs = OUTPUTS) {
  const args = { optimizer: 'sgd', ...lossAndMetrics(tc, WHERE) };
  const c = compile(outputs, args, SHAPES.slice(0, outputs.length));
  return { c, names: c.metrics.map((m) => (m.weighted ? `${m.name} (weighted)` : m.name)) };
}

const mmw = (name: string, fn: string, extra: Record<string, unknown> = {}) => ({ class_name: 'MeanMetricWrapper', config: { name, dtype: 'float32', fn, ...extra } });

test('training_config forms: names, lists, nested per-output lists, dicts by output name, serialised metrics, weighted_metrics', () => {
  // tf.keras 2.0-2.3: the metrics as given to compile.
  assert.deepEqual(metricsOf({ loss: 'mse', metrics: ['accuracy', 'mae'], weighted_metrics: null }).names, ['probs_accuracy', 'probs_mae', 'flag_accuracy', 'flag_mae']);
  assert.deepEqual(
    metricsOf({
      loss: { probs: 'categorical_crossentropy', flag: 'binary_crossentropy' },
      metrics: { probs: ['acc', { class_name: 'TopKCategoricalAccuracy', config: { name: 'top2', dtype: 'float32', k: 2 } }], flag: 'binary_accuracy' },
      weighted_metrics: ['acc'],
    }).names,
    ['probs_acc', 'probs_top2', 'probs_weighted_acc (weighted)', 'flag_binary_accuracy', 'flag_acc (weighted)'],
  );
  // tf.keras 2.4: the metrics compile built, per output, names already prefixed (Keras prefixes them again on
  // load: tensorflow/tensorflow#48692), weighted ones likewise.
  const built = metricsOf({
    loss: 'mse',
    metrics: [[mmw('probs_accuracy', 'categorical_accuracy')], [mmw('flag_accuracy', 'binary_accuracy')]],
    weighted_metrics: [[], [mmw('flag_mse', 'mean_squared_error')]],
  });
  assert.deepEqual(built.names, ['probs_probs_accuracy', 'flag_flag_accuracy', 'flag_flag_mse (weighted)']);
  assert.deepEqual(
    built.c.metrics.map((m) => m.metric.config.fn),
    ['categorical_accuracy', 'binary_accuracy', 'mean_squared_error'],
  );
  // A single output: [[...]] is that output's list; metric classes with their configs.
  const single = metricsOf(
    {
      loss: { class_name: 'CategoricalCrossentropy', config: { reduction: 'auto', name: 'categorical_crossentropy', from_logits: false, label_smoothing: 0.1 } },
      metrics: [[{ class_name: 'CategoricalAccuracy', config: { name: 'categorical_accuracy', dtype: 'float32' } }, mmw('accuracy', 'categorical_accuracy')]],
      weighted_metrics: [[{ class_name: 'BinaryAccuracy', config: { name: 'binary_accuracy', dtype: 'float32', threshold: 0.7 } }]],
    },
    ['dense'],
  );
  assert.deepEqual(single.names, ['categorical_accuracy', 'accuracy', 'binary_accuracy (weighted)']);
  assert.equal(single.c.losses[0].config.label_smoothing, 0.1);
  assert.equal(single.c.metrics[2].metric.config.threshold, 0.7);
});

test('training_config losses: a serialised loss for every output, a list, and a dict by output name', () => {
  const cce = { class_name: 'CategoricalCrossentropy', config: { reduction: 'auto', name: 'categorical_crossentropy', from_logits: true, label_smoothing: 0 } };
  const bce = { class_name: 'BinaryCrossentropy', config: { reduction: 'auto', name: 'binary_crossentropy', from_logits: false, label_smoothing: 0.2 } };
  const classes = (tc: Record<string, unknown>) => metricsOf(tc).c.losses.map((l) => [l.className, l.config.from_logits, l.config.label_smoothing]);
  assert.deepEqual(classes({ loss: cce }), [
    ['CategoricalCrossentropy', true, 0],
    ['CategoricalCrossentropy', true, 0],
  ]);
  assert.deepEqual(classes({ loss: [cce, bce] }), [
    ['CategoricalCrossentropy', true, 0],
    ['BinaryCrossentropy', false, 0.2],
  ]);
  assert.deepEqual(classes({ loss: { flag: bce, probs: 'categorical_crossentropy' } }), [
    ['CategoricalCrossentropy', false, 0],
    ['BinaryCrossentropy', false, 0.2],
  ]);
});

test('training_config errors name the field; unknown metric names list the known ones', () => {
  const field = (tc: Record<string, unknown>) => {
    try {
      metricsOf(tc);
    } catch (e) {
      if (e instanceof ConfigDecodeError) return `${e.where}: ${e.path}`;
      throw e;
    }
    assert.fail('expected an error');
  };
  assert.equal(field({ loss: 'mse', metrics: [[{ class_name: 'BinaryAccuracy', config: { threshold: 'high' } }], []] }), `${WHERE}: metrics.0.0.config.threshold`);
  assert.equal(field({ loss: 'mse', metrics: [[mmw('x', 'categorical_accuracy', { k: 3 })], []] }), `${WHERE}: metrics.0.0.config.k`);
  assert.equal(field({ loss: 'mse', weighted_metrics: { flag: [mmw('x', 7 as never)] } }), `${WHERE}: weighted_metrics.flag.0.config.fn`);
  assert.equal(field({ loss: 'mse', metrics: ['acc', 3] }), `${WHERE}: metrics.1`);
  assert.equal(field({ loss: { probs: 'mse', flag: { class_name: 'BinaryCrossentropy', config: { from_logits: 'no' } } } }), `${WHERE}: loss.flag.config.from_logits`);
  assert.equal(field({ loss: null }), `${WHERE}: loss`);
  assert.throws(
    () => metricsOf({ loss: 'mse', metrics: [[mmw('x', 'f1')], []] }),
    (e: unknown) => e instanceof UnknownNameError && /unknown metric function 'f1'. Known: accuracy, acc, binary_accuracy/.test(e.message),
  );
  assert.throws(
    () => metricsOf({ loss: 'mse', metrics: [{ class_name: 'AUC', config: { num_thresholds: 200 } }] }),
    (e: unknown) => e instanceof UnknownNameError && /unknown metric class 'AUC'. Known: Accuracy, .*MeanMetricWrapper/.test(e.message),
  );
  assert.throws(() => metricsOf({ loss: 'mse', metrics: ['acuracy'] }), (e: unknown) => e instanceof UnknownNameError && /unknown metric 'acuracy'. Known: accuracy/.test(e.message));
  // compile's own errors land on the training config's field.
  for (const [tc, path] of [
    [{ loss: 'mse', weighted_metrics: [['mae'], ['mae'], ['mae']] }, 'weighted_metrics'],
    [{ loss: 'mse', metrics: { probs: 'mae', dense_7: 'mae' } }, 'metrics'],
  ] as const) {
    const e = (() => {
      try {
        metricsOf(tc);
      } catch (err) {
        return compileArgsError(err, WHERE);
      }
    })();
    assert.ok(e instanceof ConfigDecodeError && e.path === path && e.where === WHERE, String(e));
  }
  assert.ok(compileArgsError(new InvalidArgumentError('lossWeights', 'a list', 3), WHERE).message.startsWith(`${WHERE}: config field 'loss_weights'`));
});

test('saveModel / loadModel keep nested metrics, weighted_metrics and serialised losses of a two-output model', async () => {
  const input = rx.Input({ shape: [4], name: 'x' });
  const hidden = rx.Dense({ units: 5, activation: 'tanh', name: 'hidden' }).call(input);
  const probs = rx.Dense({ units: 3, activation: 'softmax', name: 'probs' }).call(hidden);
  const flag = rx.Dense({ units: 1, activation: 'sigmoid', name: 'flag' }).call(hidden);
  const model = new rx.Model({ inputs: input, outputs: [probs, flag] }).build(4);
  model.compile({
    optimizer: 'adam',
    loss: { probs: { class_name: 'CategoricalCrossentropy', config: { label_smoothing: 0.1 } }, flag: 'binary_crossentropy' },
    metrics: [[mmw('accuracy', 'categorical_accuracy')], ['accuracy', { class_name: 'BinaryAccuracy', config: { threshold: 0.6 } }]],
    weightedMetrics: { flag: ['mse'] },
  });
  const file = path.join(tmp, 'two-outputs.h5');
  await saveModel(model, file);
  const tc = await withH5Read(file, (h) => JSON.parse(h.attrs['training_config'].value as string));
  assert.deepEqual(tc.metrics, [
    [mmw('accuracy', 'categorical_accuracy')],
    ['accuracy', { class_name: 'BinaryAccuracy', config: { threshold: 0.6 } }],
  ]);
  assert.deepEqual(tc.weighted_metrics, { flag: ['mse'] });
  assert.equal(tc.loss.probs.class_name, 'CategoricalCrossentropy');
  const back = await loadModel(file);
  const x = ops.randomNormal([6, 4], 0, 1, 'float32', 9);
  const y = [ops.oneHot(ops.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3), ops.tensor2d([[1], [0], [1], [1], [0], [0]])];
  const sampleWeight = [1, 2, 1, 2, 1, 2];
  const before = model.evaluate(x, y, { verbose: 0, sampleWeight });
  const after = back.evaluate(x, y, { verbose: 0, sampleWeight });
  assert.deepEqual(Object.keys(after), ['loss', 'probs_loss', 'flag_loss', 'probs_accuracy', 'flag_accuracy', 'flag_binary_accuracy', 'flag_mse']);
  assert.deepEqual(after, before);
  assert.equal(setupOf(back).compiled.losses[0].config.label_smoothing, 0.1);
  model.dispose();
  back.dispose();
  ops.dispose([x, ...y]);
});
