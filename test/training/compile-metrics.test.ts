import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../../src/ops/index.js';
import { InvalidArgumentError, UnknownNameError } from '../../src/core/errors.js';
import { getMetric } from '../../src/metrics/index.js';
import { compile, type CompileArgs } from '../../src/training/index.js';
import * as rx from '../../src/index.js';
import { assertClose, ref, weightedMean } from '../losses/reference.js';

// The metric structures tf.keras 2's compile takes (compile_utils.MetricsContainer):
// which metrics each output gets, their log names and order.

const TWO = ['probs', 'flag'];
const SHAPES = [
  [null, 3],
  [null, 1],
];

/** `[output, log name, class, weighted]` of each compiled metric, in order. */
function compiled(metrics: CompileArgs['metrics'], weightedMetrics?: CompileArgs['weightedMetrics'], outputs = TWO) {
  const c = compile(outputs, { optimizer: 'sgd', loss: 'mse', metrics, weightedMetrics }, SHAPES.slice(0, outputs.length));
  return c.metrics.map((m) => [m.output, m.name, m.metric.className, m.weighted]);
}

test('a single metric or a flat list applies to every output, prefixed with the output name', () => {
  assert.deepEqual(compiled('mae'), [
    [0, 'probs_mae', 'MeanMetricWrapper', false],
    [1, 'flag_mae', 'MeanMetricWrapper', false],
  ]);
  assert.deepEqual(compiled(['mae', { class_name: 'CategoricalAccuracy', config: { name: 'cat', dtype: 'float32' } }]).map((m) => m[1]), [
    'probs_mae',
    'probs_cat',
    'flag_mae',
    'flag_cat',
  ]);
});

test('a nested list gives each output its own metrics; a single-output model takes them all', () => {
  assert.deepEqual(compiled([['mae', 'mse'], ['binary_accuracy']]).map((m) => [m[0], m[1]]), [
    [0, 'probs_mae'],
    [0, 'probs_mse'],
    [1, 'flag_binary_accuracy'],
  ]);
  // None for an output: no metrics there.
  assert.deepEqual(compiled([null, ['mae']]).map((m) => [m[0], m[1]]), [[1, 'flag_mae']]);
  // tf.keras 2.4 saves a single output's built metrics as [[...]]: no prefix, all of them.
  assert.deepEqual(compiled([['accuracy', 'categorical_accuracy']], undefined, ['dense']).map((m) => m[1]), ['accuracy', 'categorical_accuracy']);
  assert.throws(
    () => compiled([['mae'], ['mse'], ['mae']]),
    (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'metrics' && /a list of 2 entries, one per output \(probs, flag\)/.test(e.message),
  );
});

test('a record by output name: an output it does not name gets no metric, an unknown key is refused', () => {
  assert.deepEqual(compiled({ flag: ['acc', 'mae'] }).map((m) => [m[0], m[1]]), [
    [1, 'flag_acc'],
    [1, 'flag_mae'],
  ]);
  assert.deepEqual(compiled({ probs: 'acc', flag: { class_name: 'BinaryAccuracy', config: { threshold: 0.7 } } }).map((m) => m[1]), [
    'probs_acc',
    'flag_binary_accuracy',
  ]);
  assert.throws(
    () => compiled({ probs: 'acc', dense_9: 'mae' }),
    (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'metrics' && /dense_9/.test(e.message),
  );
  assert.throws(() => compiled({ probs: [3 as never] }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'metrics.probs[0]');
});

test("weighted metrics follow each output's metrics; a name already taken gets 'weighted_'", () => {
  assert.deepEqual(compiled(['mae'], ['mae', 'mse']), [
    [0, 'probs_mae', 'MeanMetricWrapper', false],
    [0, 'probs_weighted_mae', 'MeanMetricWrapper', true],
    [0, 'probs_mse', 'MeanMetricWrapper', true],
    [1, 'flag_mae', 'MeanMetricWrapper', false],
    [1, 'flag_weighted_mae', 'MeanMetricWrapper', true],
    [1, 'flag_mse', 'MeanMetricWrapper', true],
  ]);
  assert.deepEqual(compiled(['acc'], [['acc']], ['dense']), [
    [0, 'acc', 'MeanMetricWrapper', false],
    [0, 'weighted_acc', 'MeanMetricWrapper', true],
  ]);
  assert.throws(
    () => compiled(['mae', 'mae']),
    (e: unknown) => e instanceof InvalidArgumentError && /two metrics named 'probs_mae'/.test(e.message),
  );
  assert.throws(() => compiled(['mae'], ['nope']), (e: unknown) => e instanceof UnknownNameError && /unknown metric 'nope'. Known: accuracy/.test(e.message));
});

test("'accuracy' in any structure still resolves from each output's shape", () => {
  const c = compile(TWO, { optimizer: 'sgd', loss: 'mse', metrics: [['accuracy'], ['accuracy']] }, SHAPES);
  const yTrue = ops.tensor2d([[0, 1, 0]]);
  const yPred = ops.tensor2d([[0.2, 0.5, 0.3]]);
  const once = (i: number, t: ops.Tensor, p: ops.Tensor) => c.metrics[i].metric.result(c.metrics[i].metric.update(c.metrics[i].metric.init(), t, p));
  assert.equal(once(0, yTrue, yPred), 1, 'categorical accuracy on the 3-wide output');
  assert.equal(once(1, ops.tensor2d([[1]]), ops.tensor2d([[0.7]])), 1, 'binary accuracy on the 1-wide output');
  assert.equal(once(1, ops.tensor2d([[1]]), ops.tensor2d([[0.3]])), 0);
});

test('evaluate: sample weights count in weighted metrics only, as in Keras', () => {
  const model = new rx.Sequential({ layers: [rx.Dense({ units: 3, activation: 'softmax', input_shape: [4] })] }).build(5);
  model.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy', metrics: ['categorical_accuracy'], weightedMetrics: ['categorical_accuracy', 'mse'] });
  const x = ops.randomNormal([6, 4], 0, 1, 'float32', 7);
  const pred = (model.predict(x) as ops.Tensor).arraySync() as number[][];
  // Rows 0-2 labelled with the predicted class, rows 3-5 with another one.
  const targets = pred.map((p, i) => {
    const top = p.indexOf(Math.max(...p));
    const label = i < 3 ? top : (top + 1) % 3;
    return [0, 1, 2].map((j) => (j === label ? 1 : 0));
  });
  const w = [3, 3, 3, 0.5, 0.5, 0.5];
  const logs = model.evaluate(x, ops.tensor2d(targets), { sampleWeight: w, verbose: 0 });
  assert.deepEqual(Object.keys(logs), ['loss', 'categorical_accuracy', 'weighted_categorical_accuracy', 'mse']);
  const acc = ref.categoricalAccuracy(targets, pred);
  assert.equal(logs.categorical_accuracy, 0.5, 'unweighted: 3 of 6');
  assertClose(logs.weighted_categorical_accuracy, weightedMean(acc, w));
  assertClose(logs.weighted_categorical_accuracy, 9 / 10.5);
  assertClose(logs.mse, weightedMean(ref.mse(targets, pred), w));
  assertClose(logs.loss, weightedMean(ref.cce()(targets, pred), w) * (w.reduce((a, b) => a + b) / w.length));
  model.dispose();
  x.dispose();
});

test('getMetric reads a MeanMetricWrapper config: fn, its keyword arguments, and the log name', () => {
  const yt = ops.tensor2d([
    [0, 1, 0],
    [1, 0, 0],
  ]);
  const yp = ops.tensor2d([
    [0.2, 0.7, 0.1],
    [0.3, 0.3, 0.4],
  ]);
  const value = (spec: Parameters<typeof getMetric>[0], t = yt, p = yp) => {
    const m = getMetric(spec);
    return m.result(m.update(m.init(), t, p));
  };
  const mmw = (config: Record<string, unknown>) => ({ class_name: 'MeanMetricWrapper', config: { dtype: 'float32', ...config } });
  const acc = getMetric(mmw({ name: 'accuracy', fn: 'categorical_accuracy' }));
  assert.equal(acc.name, 'accuracy');
  assert.equal(acc.className, 'MeanMetricWrapper');
  assert.deepEqual(acc.config, { name: 'accuracy', dtype: 'float32', fn: 'categorical_accuracy' });
  assert.equal(value(mmw({ name: 'accuracy', fn: 'categorical_accuracy' })), 0.5);
  // 'accuracy' as a function is element-wise equality (metrics.get('accuracy')), not the compile-time choice.
  assert.equal(value(mmw({ name: 'eq', fn: 'accuracy' }), yt, ops.tensor2d([[0, 1, 1], [1, 0, 0]])), 5 / 6);
  assertClose(value(mmw({ name: 'ba', fn: 'binary_accuracy', threshold: 0.35 })), ref.binaryAccuracy(0.35)(yt.arraySync() as number[][], yp.arraySync() as number[][]).reduce((a, b) => a + b) / 2);
  assert.equal(value(mmw({ name: 'top1', fn: 'top_k_categorical_accuracy', k: 1 })), 0.5);
  assert.equal(value(mmw({ name: 'top2', fn: 'top_k_categorical_accuracy', k: 2 })), 1, 'row 2: only 0.4 scores above its class');
  const logits = ops.tensor2d([[1, 3, -1]]);
  assertClose(value(mmw({ name: 'xent', fn: 'categorical_crossentropy', from_logits: true }), ops.tensor2d([[0, 1, 0]]), logits), ref.cceLogits()([[0, 1, 0]], [[1, 3, -1]])[0]);
  assert.equal(getMetric(mmw({ fn: 'mse' })).name, 'mean_metric_wrapper', "Keras's default name");
  assert.throws(() => getMetric(mmw({ name: 'x', fn: 'categorical_accuracy', k: 2 })), /config field 'k': expected no keyword arguments \('categorical_accuracy' takes none\)/);
  assert.throws(() => getMetric(mmw({ name: 'x' })), /MeanMetricWrapper config: config field 'fn': expected the name of a metric or loss function, got undefined/);
  assert.throws(
    () => getMetric(mmw({ name: 'x', fn: 'f1_score' })),
    (e: unknown) => e instanceof UnknownNameError && e.kind === 'metric function' && /Known: .*categorical_accuracy.*mean_squared_error/.test(e.message),
  );
  ops.dispose([yt, yp, logits]);
});
