import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import {
  Adadelta,
  Adagrad,
  Adam,
  Adamax,
  Nadam,
  RMSprop,
  SGD,
  disposeState,
  getOptimizer,
  optimizerNames,
  serializeOptimizer,
  setLearningRate,
} from '../../src/optimizers/index.js';
import { disposeTree, tensors } from '../../src/core/tree.js';
import { InvalidArgumentError, ShapeMismatchError, UnknownNameError } from '../../src/core/errors.js';
import { assertClose } from './reference.js';
import { PYTHON, needsPython } from '../helpers/python.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/keras/', import.meta.url));

/** Reads training_config and optimizer_weights of a Keras .h5 file with h5py (an independent reader). */
function readOptimizerPart(file: string): { training_config: { optimizer_config: { class_name: string; config: Record<string, unknown> } }; names: string[]; shapes: number[][]; sums: number[]; first: number[] } {
  const script = `
import h5py, json, sys
import numpy as np
f = h5py.File(sys.argv[1], 'r')
g = f['optimizer_weights']
names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs['weight_names']]
values = [np.array(g[n]) for n in names]
json.dump({'training_config': json.loads(f.attrs['training_config']), 'names': names,
           'shapes': [list(v.shape) for v in values], 'sums': [float(np.sum(v, dtype=np.float64)) for v in values],
           'first': [float(v.ravel()[0]) for v in values]}, sys.stdout)
`;
  return JSON.parse(execFileSync(PYTHON, ['-c', script, file], { encoding: 'utf8' }));
}

test('Keras 2 defaults and config keys of every optimizer', () => {
  const expected: Record<string, Record<string, unknown>> = {
    SGD: { name: 'SGD', learning_rate: 0.01, decay: 0, momentum: 0, nesterov: false },
    RMSprop: { name: 'RMSprop', learning_rate: 0.001, decay: 0, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false },
    Adam: { name: 'Adam', learning_rate: 0.001, decay: 0, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false },
    Adagrad: { name: 'Adagrad', learning_rate: 0.001, decay: 0, initial_accumulator_value: 0.1, epsilon: 1e-7 },
    Adadelta: { name: 'Adadelta', learning_rate: 0.001, decay: 0, rho: 0.95, epsilon: 1e-7 },
    Adamax: { name: 'Adamax', learning_rate: 0.001, decay: 0, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 },
    Nadam: { name: 'Nadam', learning_rate: 0.001, decay: 0.004, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 },
  };
  for (const [className, config] of Object.entries(expected)) {
    const byName = getOptimizer(className.toLowerCase());
    assert.equal(byName.className, className);
    assert.deepEqual(byName.getConfig(), config, className);
    // key order matters to nobody's parser, but keep Keras's: name, learning_rate, decay, own keys
    assert.deepEqual(Object.keys(byName.getConfig()), Object.keys(config), `${className} key order`);
  }
  assert.deepEqual(
    [SGD(), RMSprop(), Adam(), Adagrad(), Adadelta(), Adamax(), Nadam()].map((o) => o.className),
    ['SGD', 'RMSprop', 'Adam', 'Adagrad', 'Adadelta', 'Adamax', 'Nadam'],
  );
  const clipped = Adam({ clipnorm: 1, clipvalue: 0.5 }).getConfig();
  assert.deepEqual(clipped, { ...expected.Adam, clipnorm: 1, clipvalue: 0.5 });
  assert.deepEqual(Object.keys(clipped).slice(0, 4), ['name', 'clipnorm', 'clipvalue', 'learning_rate']);
});

test('getOptimizer: names are case-insensitive, module prefixes are dropped, unknown names list the known ones', () => {
  assert.equal(getOptimizer('RMSProp').className, 'RMSprop');
  assert.equal(getOptimizer({ class_name: 'keras.optimizers.legacy.Adam', config: { learning_rate: 0.5 } }).getConfig().learning_rate, 0.5);
  const adam = Adam();
  assert.equal(getOptimizer(adam), adam);
  assert.throws(
    () => getOptimizer('adamw'),
    (e: unknown) => e instanceof UnknownNameError && /adamw/.test(e.message) && optimizerNames.every((n) => e.message.includes(n)),
  );
  assert.throws(() => getOptimizer({ class_name: 'Ftrl', config: {} }), UnknownNameError);
  assert.throws(() => getOptimizer(42 as never), InvalidArgumentError);
  // Keras 2.11+ configs carry extra keys; the harmless ones are ignored.
  const modern = getOptimizer({ class_name: 'Adam', config: { learning_rate: 0.01, jit_compile: true, is_legacy_optimizer: false, weight_decay: null, use_ema: false } });
  assert.equal(modern.getConfig().learning_rate, 0.01);
});

test('config round trip through serializeOptimizer / getOptimizer (property)', () => {
  const lrArb = fc.oneof(
    fc.double({ min: 1e-5, max: 1, noNaN: true }),
    fc.record({ class_name: fc.constant('ExponentialDecay'), config: fc.record({ initial_learning_rate: fc.double({ min: 1e-4, max: 1, noNaN: true }), decay_steps: fc.integer({ min: 1, max: 1000 }), decay_rate: fc.double({ min: 0.1, max: 1, noNaN: true }), staircase: fc.boolean(), name: fc.constant(null) }) }),
  );
  const specArb = fc.oneof(
    fc.record({ class_name: fc.constant('Adam'), config: fc.record({ learning_rate: lrArb, beta_1: fc.double({ min: 0, max: 0.99, noNaN: true }), amsgrad: fc.boolean(), clipnorm: fc.double({ min: 0.1, max: 5, noNaN: true }) }) }),
    fc.record({ class_name: fc.constant('SGD'), config: fc.record({ learning_rate: lrArb, momentum: fc.double({ min: 0, max: 1, noNaN: true }), nesterov: fc.boolean(), decay: fc.double({ min: 0, max: 1, noNaN: true }) }) }),
    fc.record({ class_name: fc.constant('RMSprop'), config: fc.record({ rho: fc.double({ min: 0, max: 1, noNaN: true }), centered: fc.boolean(), epsilon: fc.double({ min: 1e-8, max: 1, noNaN: true }), global_clipnorm: fc.double({ min: 0.1, max: 5, noNaN: true }), name: fc.constant('my_rms') }) }),
    // Not Nadam's schedule_decay: Keras writes it as `decay` and ignores `decay` when reading, so
    // Keras itself only round-trips the default 0.004 (rxkeras does the same).
    fc.record({ class_name: fc.constant('Nadam'), config: fc.record({ learning_rate: fc.double({ min: 1e-5, max: 1, noNaN: true }), beta_2: fc.double({ min: 0, max: 1, noNaN: true }), clipvalue: fc.double({ min: 0, max: 5, noNaN: true }) }) }),
  );
  fc.assert(
    fc.property(specArb, (generated) => {
      const spec = JSON.parse(JSON.stringify(generated)) as typeof generated; // plain objects, as a JSON file gives
      const first = getOptimizer(spec);
      const serialized = serializeOptimizer(first);
      assert.equal(serialized.class_name, spec.class_name);
      const again = getOptimizer(JSON.parse(JSON.stringify(serialized)));
      assert.deepEqual(again.getConfig(), first.getConfig());
      for (const [k, v] of Object.entries(spec.config)) assert.deepEqual(first.getConfig()[k], v, k);
    }),
    { numRuns: 25 },
  );
});

const kotlindl = FIXTURES + 'kotlindl/mnist.h5';
const keras2c = FIXTURES + 'keras2c/example_model.h5';

test('optimizer configs from real Keras files decode and serialise back', { skip: needsPython('h5py', 'numpy') }, () => {
  const tf2 = readOptimizerPart(kotlindl).training_config.optimizer_config;
  assert.deepEqual(getOptimizer(tf2).getConfig(), tf2.config);
  // Keras 2.2.4 wrote `lr`; it is read as learning_rate.
  const legacy = readOptimizerPart(keras2c).training_config.optimizer_config;
  const opt = getOptimizer(legacy);
  assert.equal(opt.getConfig().learning_rate, legacy.config.lr);
  assert.equal(opt.getConfig().beta_1, legacy.config.beta_1);
});

test('weights() names, order and shapes match a tf.keras 2 file; setWeights loads its values', { skip: needsPython('h5py', 'numpy') }, () => {
  const file = readOptimizerPart(kotlindl);
  const opt = getOptimizer(file.training_config.optimizer_config);
  const params = {
    flatten: {},
    dense_6: { kernel: tf.zeros([784, 128]), bias: tf.zeros([128]) },
    dense_7: { kernel: tf.zeros([128, 10]), bias: tf.zeros([10]) },
  };
  const state = opt.init(params);
  const fresh = opt.weights(state);
  assert.deepEqual(
    fresh.map(([name]) => name),
    file.names,
  );
  assert.deepEqual(
    fresh.map(([, t]) => t.shape),
    file.shapes,
  );
  tf.dispose(fresh.map(([, t]) => t));

  // Load the file's values (read independently by h5py: compare sums and first elements).
  const values = JSON.parse(
    execFileSync(PYTHON, ['-c', `import h5py, json, sys, numpy as np\nf = h5py.File(sys.argv[1], 'r')['optimizer_weights']\nprint(json.dumps([np.array(f[n]).ravel().tolist() for n in ${JSON.stringify(file.names)}]))`, kotlindl], {
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    }),
  ) as number[][];
  const tensors = values.map((v, i) => tf.tensor(v, file.shapes[i], i === 0 ? 'int32' : 'float32'));
  const loaded = opt.setWeights(state, tensors);
  tf.dispose(tensors);
  const back = opt.weights(loaded);
  back.forEach(([name, t], i) => {
    assertClose([tf.sum(tf.cast(t, 'float32')).dataSync()[0]], [file.sums[i]], { rtol: 1e-4, atol: 1e-6 }, `${name} sum`);
    assertClose([t.dataSync()[0]], [file.first[i]], { rtol: 1e-6 }, `${name} first element`);
  });
  assert.equal(loaded.iterations, file.first[0]);
  tf.dispose(back.map(([, t]) => t));
  disposeState(loaded);
  disposeState(state);
  disposeTree(params);
});

test('weights() with explicit paramPaths, Nadam momentum_cache, SGD without slots', () => {
  const params = { d: { kernel: tf.ones([2, 2]), bias: tf.ones([2]) } };
  const nadam = Nadam({ name: 'opt' });
  const state = nadam.init(params);
  assert.deepEqual(
    nadam.weights(state, [['d/bias', 'model/d/bias'], 'd/kernel']).map(([n, t]) => (t.dispose(), n)),
    ['opt/iter:0', 'opt/momentum_cache:0', 'opt/model/d/bias/m:0', 'opt/d/kernel/m:0', 'opt/model/d/bias/v:0', 'opt/d/kernel/v:0'],
  );
  const sgd = SGD();
  const s2 = sgd.init(params);
  assert.deepEqual(
    sgd.weights(s2).map(([n, t]) => (t.dispose(), n)),
    ['SGD/iter:0'],
  );
  const rms = RMSprop({ momentum: 0.5, centered: true });
  const s3 = rms.init(params);
  assert.deepEqual(
    rms.weights(s3).map(([n, t]) => (t.dispose(), n)),
    ['RMSprop/iter:0', 'RMSprop/d/kernel/rms:0', 'RMSprop/d/bias/rms:0', 'RMSprop/d/kernel/momentum:0', 'RMSprop/d/bias/momentum:0', 'RMSprop/d/kernel/mg:0', 'RMSprop/d/bias/mg:0'],
  );
  [state, s2, s3].forEach(disposeState);
  disposeTree(params);
});

test('setWeights with adopt takes the given slot tensors over (the others given are disposed); weights() without copy hands them out', () => {
  const params = { d: { kernel: tf.ones([2, 2]), bias: tf.ones([2]) } };
  const adam = Adam();
  const s = adam.init(params);
  const list = [tf.scalar(3, 'int32'), ...[1, 2].flatMap((k) => [tf.fill([2, 2], k), tf.fill([2], k)])];
  const loaded = adam.setWeights(s, list, undefined, true);
  assert.equal(loaded.iterations, 3);
  assert.ok(list[0].isDisposed, 'the iterations scalar was read and disposed');
  const held = new Set(tensors(loaded));
  for (const t of list.slice(1)) assert.ok(held.has(t) && !t.isDisposed, 'each slot is the tensor given');
  const weights = adam.weights(loaded);
  assert.deepEqual(weights.map(([, t]) => t.dataSync()[0]), [3, 1, 1, 2, 2]);
  tf.dispose(weights.map(([, t]) => t));
  // without copies, weights() hands out the state's own slots (and a new iterations scalar)
  const own = adam.weights(loaded, undefined, false);
  assert.deepEqual(own.slice(1).map(([, t]) => t), list.slice(1));
  assert.ok(!held.has(own[0][1]));
  own[0][1].dispose();
  [s, loaded].forEach(disposeState);
  disposeTree(params);
});

test('setWeights: Keras 1 layouts, wrong counts and wrong shapes', () => {
  const params = { d: { kernel: tf.ones([2, 2]), bias: tf.ones([2]) } };
  // Adagrad from Keras 1: no iterations; iterations become 0.
  const adagrad = Adagrad();
  const s1 = adagrad.init(params);
  const acc = [tf.fill([2, 2], 3), tf.fill([2], 4)];
  const l1 = adagrad.setWeights(s1, acc);
  assert.equal(l1.iterations, 0);
  const w1 = adagrad.weights(l1);
  assert.deepEqual(Array.from(w1[1][1].dataSync()), [3, 3, 3, 3]);
  assert.deepEqual(Array.from(w1[2][1].dataSync()), [4, 4]);
  // Adam from Keras 1: iterations, m's, v's and vhat's; vhats are dropped.
  const adam = Adam();
  const s2 = adam.init(params);
  const list = [tf.scalar(7, 'int32'), ...[1, 2, 3].flatMap((k) => [tf.fill([2, 2], k), tf.fill([2], k)])];
  const l2 = adam.setWeights(s2, list);
  const w2 = adam.weights(l2);
  assert.deepEqual(
    w2.map(([, t]) => t.dataSync()[0]),
    [7, 1, 1, 2, 2],
  );
  assert.throws(() => adam.setWeights(s2, list.slice(0, 3)), (e: unknown) => e instanceof InvalidArgumentError && /5 tensors/.test(e.message) && /Adam\/d\/kernel\/m:0/.test(e.message));
  const bad = [tf.scalar(0), tf.zeros([3]), tf.zeros([2]), tf.zeros([2, 2]), tf.zeros([2])];
  assert.throws(() => adam.setWeights(s2, bad), (e: unknown) => e instanceof ShapeMismatchError && /d\/kernel/.test(e.message));
  // the loaded iterations drive the bias correction: a loaded state continues where Keras stopped
  const l3 = setLearningRate(l2, 0.5);
  assert.equal(adam.getConfig(l3).learning_rate, 0.5);
  tf.dispose([...acc, ...list, ...bad, ...w1.map(([, t]) => t), ...w2.map(([, t]) => t)]);
  [s1, l1, s2, l3].forEach(disposeState);
  disposeTree(params);
});
