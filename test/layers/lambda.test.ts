/**
 * Lambda: wraps named, registered pure TypeScript functions; its config is
 * Keras's (function name, function_type 'function', arguments) and round
 * trips through JSON and a functional model's JSON; a Keras config holding
 * Python bytecode is refused with LambdaFunctionError (nothing executed)
 * unless a replacement is registered under the layer's name; output shapes
 * from the registration, a raw output_shape, or a run on zeros.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as rx from '../../src/index.js';
import { runLayerTest } from '../../src/testing/index.js';
import * as L from '../../src/layers/index.js';
import { layerFromConfig } from '../../src/layers/registry.js';
import { modelFromJSON, toJSON } from '../../src/models/io.js';

L.registerLambda('scale_by', (x, args) => tf.mul(x as tf.Tensor, (args.factor as number | undefined) ?? 2));
L.registerLambda('pair_sum', (xs) => tf.add((xs as tf.Tensor[])[0], (xs as tf.Tensor[])[1]), { outputShape: (s) => (s as (number | null)[][])[0] });
L.registerLambda('first_half', (x) => {
  const t = x as tf.Tensor;
  return tf.slice(t, [0, 0], [-1, Math.floor(t.shape[1]! / 2)]);
});

test('run_layer_test: Lambda', () =>
  runLayerTest({ layer: L.Lambda({ function: 'scale_by', arguments: { factor: 3 } }), inputShape: [null, 4], expectedParams: 0, expectedOutputShape: [null, 4] }));
test('run_layer_test: Lambda on a list with a registered output shape', () =>
  runLayerTest({ layer: L.Lambda({ function: 'pair_sum' }), inputShape: [[null, 3], [null, 3]], expectedParams: 0, expectedOutputShape: [null, 3] }));
test('run_layer_test: Lambda output shape from a run on zeros', () =>
  runLayerTest({ layer: L.Lambda({ function: 'first_half' }), inputShape: [null, 6], expectedParams: 0, expectedOutputShape: [null, 3] }));

test('config is Keras-shaped; arguments reach the function', async () => {
  const layer = L.Lambda({ function: 'scale_by', arguments: { factor: 5 } });
  assert.match(layer.name, /^lambda(_\d+)?$/);
  const c = layer.getConfig();
  assert.deepEqual(
    Object.fromEntries(['function', 'function_type', 'module', 'output_shape', 'output_shape_type', 'output_shape_module', 'arguments'].map((k) => [k, c[k]])),
    { function: 'scale_by', function_type: 'function', module: null, output_shape: null, output_shape_type: 'raw', output_shape_module: null, arguments: { factor: 5 } },
  );
  const x = tf.tensor2d([[1, 2]]);
  const y = layer.apply({}, {}, x, { training: false }).outputs as tf.Tensor;
  assert.deepEqual(Array.from(await y.data()), [5, 10]);
  tf.dispose([x, y]);
  assert.deepEqual(L.Lambda({ function: 'scale_by', output_shape: [7], output_shape_type: 'raw' }).computeOutputShape([null, 4]), [null, 7]);
});

const kerasBytecode = {
  name: 'lambda_py',
  trainable: true,
  dtype: 'float32',
  function: ['4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7pAgAAAKkAKQHaAXhyAgAAAHICAAAA+gc8c3RkaW4+2gg8bGFtYmRhPgEAAADzAAAAAA==', null, null],
  function_type: 'lambda',
  module: '__main__',
  output_shape: null,
  output_shape_type: 'raw',
  output_shape_module: null,
  arguments: {},
};

test('a Keras Lambda with Python bytecode is refused, never run', () => {
  assert.throws(
    () => layerFromConfig({ class_name: 'Lambda', config: kerasBytecode }),
    (e: unknown) => e instanceof L.LambdaFunctionError && /Python code/.test(e.message) && /registerLambda\('lambda_py'/.test(e.message),
  );
  assert.throws(() => L.Lambda({ function: 'no_such_fn' }), (e: unknown) => e instanceof L.LambdaFunctionError && /no function is registered as 'no_such_fn'/.test(e.message));
  const yamlish = { ...kerasBytecode, function: { class_name: '__lambda__', config: { code: 'AAAA' } } };
  assert.throws(() => layerFromConfig({ class_name: 'Lambda', config: yamlish }), L.LambdaFunctionError);
});

test('a replacement registered under the layer name loads a Keras Lambda (config kept for Keras)', async () => {
  L.registerLambda('lambda_py', (x) => tf.mul(x as tf.Tensor, 2));
  try {
    const layer = layerFromConfig({ class_name: 'Lambda', config: kerasBytecode });
    assert.deepEqual(layer.getConfig().function, kerasBytecode.function);
    assert.equal(layer.getConfig().function_type, 'lambda');
    const x = tf.tensor2d([[1, -3]]);
    const y = layer.apply({}, {}, x, { training: false }).outputs as tf.Tensor;
    assert.deepEqual(Array.from(await y.data()), [2, -6]);
    tf.dispose([x, y]);
    const again = layerFromConfig({ class_name: 'Lambda', config: JSON.parse(JSON.stringify(layer.getConfig())) });
    assert.equal(again.name, 'lambda_py');
  } finally {
    assert.equal(L.unregisterLambda('lambda_py'), true);
  }
  assert.ok(!L.knownLambdas().includes('lambda_py'));
});

test('a functional model with Lambda, merge and attention layers round trips through Keras JSON', async () => {
  const a = rx.Input({ shape: [3, 4] });
  const b = rx.Input({ shape: [5, 4] });
  const att = L.Attention({ use_scale: true }).call([a, b]);
  const mha = L.MultiHeadAttention({ num_heads: 2, key_dim: 2 }).call([a, b]);
  const sum = L.Add().call([att, mha]);
  const normed = L.LayerNormalization().call(sum);
  const scaled = L.Lambda({ function: 'scale_by', arguments: { factor: 0.5 } }).call(normed);
  const out = L.Concatenate({ axis: 1 }).call([scaled, a]);
  const model = new rx.Model({ inputs: [a, b], outputs: out }).build(4);
  const json = toJSON(model);
  const copy = modelFromJSON(json).build(4);
  assert.equal(toJSON(copy), json);
  const xa = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
  const xb = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 2);
  const y1 = model.predict([xa, xb]) as tf.Tensor;
  const y2 = copy.predict([xa, xb]) as tf.Tensor;
  assert.deepEqual(y1.shape, [2, 6, 4]);
  assert.deepEqual(await y2.data(), await y1.data());
  tf.dispose([xa, xb, y1, y2]);
});
