import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ops from '../../src/ops/index.js';
import { InvalidArgumentError, UnknownLayerError, UnknownNameError } from '../../src/core/errors.js';
import { checkCustomObjects, registerCustomObjects, withCustomObjects } from '../../src/custom-objects/index.js';
import { getActivation } from '../../src/activations/index.js';
import { getConstraint } from '../../src/constraints/index.js';
import { getInitializer, type Initializer } from '../../src/initializers/index.js';
import { Dense } from '../../src/layers/dense.js';
import { defineLayer, decodeLayerConfig } from '../../src/layers/define-layer.js';
import { LambdaFunctionError } from '../../src/layers/lambda.js';
import type { Layer } from '../../src/layers/layer.js';
import { getLoss, getMetric } from '../../src/index.js';
import { loadModel, modelFromJSON, modelFromYAML, modelToConfig, saveModel, toJSON, toYAML } from '../../src/models/io.js';
import { Sequential } from '../../src/models/sequential.js';
import type { Regularizer } from '../../src/regularizers/index.js';
import type { TrainingSetup } from '../../src/training/types.js';
import * as t from 'io-ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-custom-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

// ---- a set of custom objects, as a user writes them ------------------------

/** A layer with one weight: `x * scale` (a trainable scalar per feature), config key `scale_init`. */
function ScaleLayer(args: Record<string, unknown> = {}, className = 'ScaleLayer'): Layer {
  const c = decodeLayerConfig(className, t.partial({ scale_init: t.number }), args);
  const scaleInit = c.scale_init ?? 2;
  return defineLayer(className, { ...c, scale_init: scaleInit }, {
    init: (_key, inputShape) => {
      const s = inputShape as (number | null)[];
      return { params: { scale: ops.fill([s[s.length - 1]!], scaleInit) }, state: {}, outputShape: inputShape };
    },
    apply: (params, state, inputs) => ({ outputs: ops.mul(inputs as ops.Tensor, params.scale as ops.Tensor), state }),
    computeOutputShape: (s) => s,
  });
}

const halfMse = (yTrue: ops.Tensor, yPred: ops.Tensor) => ops.tidy(() => ops.mul(ops.mean(ops.square(ops.sub(yTrue, yPred)), -1), 0.5));
const maxAbs = (yTrue: ops.Tensor, yPred: ops.Tensor) => ops.tidy(() => ops.max(ops.abs(ops.sub(yTrue, yPred)), -1));
const constantInit = (config: Record<string, unknown>): Initializer => ({
  className: 'MyConstant',
  config: { value: config.value ?? 0 },
  init: (_key, shape) => ops.fill(shape, Number(config.value ?? 0)),
});
const l1Custom = (config: Record<string, unknown>): Regularizer =>
  ({ className: 'MyL1', config: { factor: config.factor }, loss: (x: ops.Tensor) => ops.tidy(() => ops.mul(ops.sum(ops.abs(x)), Number(config.factor))) as ops.Scalar }) as unknown as Regularizer;
const clipCustom = (config: Record<string, unknown>) => ({
  className: 'MyClip',
  config: { limit: config.limit },
  apply: (w: ops.Tensor) => ops.clipByValue(w, -Number(config.limit), Number(config.limit)),
});

registerCustomObjects({
  layers: { ScaleLayer: (config) => ScaleLayer(config as Record<string, unknown>) },
  activations: { cube: (x) => ops.mul(ops.mul(x, x), x) },
  losses: { half_mse: halfMse },
  lossClasses: {
    ScaledMSE: (config) => ({
      className: 'ScaledMSE',
      name: String(config.name ?? 'scaled_mse'),
      config: { reduction: 'auto', name: String(config.name ?? 'scaled_mse'), factor: config.factor ?? 1 },
      fn: (yt, yp) => ops.tidy(() => ops.mul(ops.mean(ops.square(ops.sub(yt, yp)), -1), Number(config.factor ?? 1))),
    }),
  },
  metrics: { max_abs: maxAbs },
  initializers: { MyConstant: constantInit },
  regularizers: { MyL1: l1Custom },
  constraints: { MyClip: clipCustom },
  lambdas: { double: (x) => ops.mul(x as ops.Tensor, 2) },
});

function customModel(): Sequential {
  return new Sequential({
    name: 'custom',
    layers: [
      Dense({
        units: 3,
        input_shape: [4],
        activation: 'cube',
        kernel_initializer: { class_name: 'MyConstant', config: { value: 0.25 } },
        kernel_regularizer: { class_name: 'MyL1', config: { factor: 0.01 } },
        kernel_constraint: { class_name: 'MyClip', config: { limit: 1 } },
      }),
      ScaleLayer({ name: 'scale', scale_init: 3 }),
    ],
  });
}

const x = () => ops.tensor([[1, 2, 3, 4], [-1, 0.5, 0, 2]]);

test('a custom layer, activation, initializer, regularizer and constraint round-trip through JSON and YAML', () => {
  const m = customModel().build(0);
  const y = m.predict(x()) as ops.Tensor;
  // kernel = 0.25 everywhere, bias 0: (0.25 * sum(x))^3 * 3
  const expected = [[1, 2, 3, 4], [-1, 0.5, 0, 2]].map((r) => Array(3).fill(Math.pow(0.25 * r.reduce((a, b) => a + b), 3) * 3));
  Array.from(y.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - expected.flat()[i]) < 1e-5));
  const config = modelToConfig(m);
  const dense = (config.config.layers as { config: Record<string, unknown> }[])[0].config;
  assert.equal(dense.activation, 'cube');
  assert.deepEqual(dense.kernel_initializer, { class_name: 'MyConstant', config: { value: 0.25 } });
  assert.deepEqual(dense.kernel_regularizer, { class_name: 'MyL1', config: { factor: 0.01 } });
  assert.deepEqual(dense.kernel_constraint, { class_name: 'MyClip', config: { limit: 1 } });
  for (const back of [modelFromJSON(toJSON(m)), modelFromYAML(toYAML(m))]) {
    assert.deepEqual(modelToConfig(back), config);
    back.build(1);
    const y2 = back.predict(x()) as ops.Tensor;
    assert.deepEqual(Array.from(y2.dataSync()), Array.from(y.dataSync()), 'the custom initializer gives the same weights');
    y2.dispose();
    back.dispose();
  }
  y.dispose();
  m.dispose();
});

test('saveModel / loadModel: custom layer weights and a custom loss and metric in training_config resolve on load', async () => {
  const m = customModel().build(0);
  const w = m.getWeights();
  assert.deepEqual(w.map((t) => t.shape), [[4, 3], [3], [3]], "Dense kernel and bias, then the custom layer's scale");
  m.setWeights([w[0], w[1], ops.tensor([5, 6, 7])]);
  m.compile({ optimizer: 'sgd', loss: 'half_mse', metrics: ['max_abs'] });
  const file = path.join(tmp, 'custom.h5');
  await saveModel(m, file);
  const loaded = await loadModel(file);
  assert.deepEqual(modelToConfig(loaded), modelToConfig(m));
  const setup = loaded.compiled as TrainingSetup;
  assert.ok(setup, 'compiled from training_config');
  assert.equal(setup.compiled.args.loss, 'half_mse');
  assert.deepEqual(setup.compiled.args.metrics, ['max_abs']);
  const [a, b] = [m.predict(x()) as ops.Tensor, loaded.predict(x()) as ops.Tensor];
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()), 'the custom layer weight is saved and loaded');
  ops.dispose([a, b, ...w]);
  const logs = loaded.evaluate(x(), ops.zeros([2, 3]), { verbose: 0 } as never) as Record<string, number>;
  const y = m.predict(x()) as ops.Tensor;
  const expectedLoss = ops.mean(halfMse(ops.zeros([2, 3]), y)).dataSync()[0];
  assert.ok(Math.abs(logs.loss - expectedLoss) < 1e-3 * Math.max(1, Math.abs(expectedLoss)) + 1e-3, `loss ${logs.loss} vs ${expectedLoss}`);
  assert.ok('max_abs' in logs, `logs name the custom metric: ${Object.keys(logs)}`);
  y.dispose();
  m.dispose();
  loaded.dispose();
});

test('a custom loss given as a value, and a custom loss class with a config, are saved so that they load', async () => {
  const cases = [
    { loss: getLoss(halfMse), expected: [0.5, 0.5] },
    { loss: { class_name: 'ScaledMSE', config: { factor: 2, name: 'scaled_mse', reduction: 'auto' } }, expected: [2, 2] },
  ];
  for (const { loss, expected } of cases) {
    const m = customModel().build(0);
    m.compile({ optimizer: 'sgd', loss });
    const file = path.join(tmp, 'custom-loss.h5');
    await saveModel(m, file);
    const loaded = await loadModel(file);
    const resolved = (loaded.compiled as TrainingSetup).compiled;
    const yt = ops.ones([2, 3]);
    const yp = ops.zeros([2, 3]);
    const l = getLoss(resolved.args.loss as never).fn(yt, yp);
    assert.deepEqual(Array.from(l.dataSync()), expected);
    ops.dispose([yt, yp, l]);
    m.dispose();
    loaded.dispose();
  }
  assert.equal(getLoss(halfMse).name, 'half_mse', 'a registered function is named by its registration');
  assert.equal(getMetric(maxAbs).name, 'max_abs');
  assert.equal(getMetric('half_mse').name, 'half_mse', 'a registered loss is a metric by its name, as in Keras');
});

test('unknown names list the known ones (custom ones included) and say how to register', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => getLoss('nope_loss'), /unknown loss 'nope_loss'\. Known: .*mean_squared_error.*half_mse.*registerLoss\('nope_loss'/],
    [() => getLoss({ class_name: 'NopeLoss' }), /Known: .*BinaryCrossentropy.*ScaledMSE.*registerLossClass\('NopeLoss'/],
    [() => getMetric('nope_metric'), /Known: .*binary_accuracy.*max_abs.*registerMetric\('nope_metric'/],
    [() => getActivation('nope_act'), /Known: .*relu.*cube.*registerActivation\('nope_act'/],
    [() => getInitializer('NopeInit'), /Known: .*GlorotUniform.*MyConstant.*registerInitializer\('NopeInit'/],
    [() => getConstraint('NopeConstraint'), /Known: .*MaxNorm.*MyClip.*registerConstraint\('NopeConstraint'/],
  ];
  for (const [f, message] of cases) assert.throws(f, (e: Error) => e instanceof UnknownNameError && message.test(e.message));
  const json = JSON.parse(toJSON(customModel()));
  json.config.layers[1].class_name = 'NopeLayer';
  assert.throws(() => modelFromJSON(json), (e: Error) => e instanceof UnknownLayerError && /Known: .*ScaleLayer/.test(e.message) && /registerLayer\('NopeLayer'/.test(e.message));
});

test("a Keras Lambda config (Python bytecode) is refused, and loads once a replacement is registered under the layer's name", () => {
  const keras = {
    class_name: 'Sequential',
    config: {
      name: 'seq',
      layers: [
        { class_name: 'Dense', config: { name: 'd', units: 2, batch_input_shape: [null, 2], kernel_initializer: 'ones' } },
        { class_name: 'Lambda', config: { name: 'halve', function: ['4wEAAAAAAAAAAQAAAAIAAABDAAAA', null, null], function_type: 'lambda', output_shape: null, arguments: {} } },
      ],
    },
  };
  assert.throws(() => modelFromJSON(keras), (e: Error) => e instanceof LambdaFunctionError && /never runs/.test(e.message) && /registerLambda\('halve'/.test(e.message));
  registerCustomObjects({ lambdas: { halve: { fn: (v) => ops.mul(v as ops.Tensor, 0.5), options: { outputShape: [2] } } } });
  const m = modelFromJSON(keras).build(0);
  const y = m.predict(ops.tensor([[1, 3]])) as ops.Tensor;
  assert.deepEqual(Array.from(y.dataSync()), [2, 2]);
  // a Lambda by function name (what rxkeras writes) round-trips
  const named = modelFromJSON({ ...keras, config: { ...keras.config, layers: [keras.config.layers[0], { class_name: 'Lambda', config: { name: 'l2', function: 'double', function_type: 'function' } }] } });
  assert.deepEqual(modelToConfig(modelFromJSON(toJSON(named))), modelToConfig(named));
  y.dispose();
  m.dispose();
});

test('registerCustomObjects checks the whole set first: a bad entry registers nothing', () => {
  const good = (yt: ops.Tensor, yp: ops.Tensor) => ops.sub(yt, yp);
  assert.throws(
    () => registerCustomObjects({ losses: { never_registered: good }, metrics: { bad: 3 as never } }),
    (e: Error) => e instanceof InvalidArgumentError && /customObjects\.metrics\.bad: expected a function/.test(e.message),
  );
  assert.throws(() => getLoss('never_registered'), UnknownNameError);
  assert.throws(() => checkCustomObjects({ widgets: {} }), (e: Error) => /one of the kinds layers, lambdas, losses/.test(e.message));
  assert.throws(() => checkCustomObjects(null), InvalidArgumentError);
});

// ---- scoped custom objects (Keras's custom_object_scope) ------------------

test('withCustomObjects: objects hold inside the call only, nest and shadow, and stay apart across concurrent async calls', async () => {
  const config = JSON.stringify({
    class_name: 'Sequential',
    config: { name: 'scoped', layers: [{ class_name: 'ScopedScale', config: { name: 'scoped_scale', batch_input_shape: [null, 2] } }] },
  });
  const layers = { ScopedScale: (c: unknown) => ScaleLayer({ ...(c as Record<string, unknown>), name: 'scoped_scale' }, 'ScopedScale') };
  assert.throws(() => modelFromJSON(config), UnknownLayerError);
  const inside = withCustomObjects({ layers }, () => modelFromJSON(config));
  assert.equal(inside.layers[0].className, 'ScopedScale');
  inside.dispose();
  assert.throws(() => modelFromJSON(config), UnknownLayerError);

  // Nested scopes: the inner entry shadows the outer one, which comes back after.
  const value = () => Array.from(getActivation('scoped_act')(ops.tensor1d([2])).dataSync())[0];
  withCustomObjects({ activations: { scoped_act: (x) => ops.mul(x, 10) } }, () => {
    assert.equal(value(), 20);
    withCustomObjects({ activations: { scoped_act: (x) => ops.mul(x, 100) } }, () => assert.equal(value(), 200));
    assert.equal(value(), 20);
  });
  assert.throws(() => getActivation('scoped_act'), UnknownNameError);

  // Async calls keep their own scope across awaits, even interleaved.
  const run = (factor: number) =>
    withCustomObjects({ activations: { scoped_act: (x) => ops.mul(x, factor) } }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const first = value();
      await new Promise((resolve) => setImmediate(resolve));
      return [first, value()];
    });
  assert.deepEqual(await Promise.all([run(3), run(7)]), [
    [6, 6],
    [14, 14],
  ]);

  // A whole model file loads inside an async scope.
  const file = path.join(tmp, 'scoped.h5');
  const saved = withCustomObjects({ layers }, () => modelFromJSON(config));
  saved.build();
  await saveModel(saved, file);
  saved.dispose();
  await assert.rejects(loadModel(file), UnknownLayerError);
  const loaded = await withCustomObjects({ layers }, () => loadModel(file));
  assert.equal(loaded.layers[0].name, 'scoped_scale');
  loaded.dispose();
});

test('withCustomObjects checks the whole set first: a bad entry runs nothing', () => {
  let ran = false;
  assert.throws(
    () => withCustomObjects({ activations: { ok: (x: ops.Tensor) => x, bad: 3 as unknown as (x: ops.Tensor) => ops.Tensor } }, () => (ran = true)),
    (e: Error) => e instanceof InvalidArgumentError && /customObjects\.activations\.bad/.test(e.message),
  );
  assert.equal(ran, false);
});
