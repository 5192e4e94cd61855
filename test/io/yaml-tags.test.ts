import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigDecodeError } from '../../src/core/errors.js';
import { modelFromYAML, parseKerasYAML } from '../../src/models/io.js';

const TRACKING = 'tensorflow.python.training.tracking.data_structures';

/**
 * A tf.keras 2.1 `to_yaml()` of Dense + BatchNormalization. The `axis` line is
 * tf.keras's own output as reported in tensorflow/tensorflow#37885
 * (`axis: !!python/object/apply:...ListWrapper` followed by `- - 3`); the rest
 * is the config tf.keras writes for these layers.
 */
const tfKerasYAML = (axis: string) => `backend: tensorflow
class_name: Sequential
config:
  layers:
  - class_name: Dense
    config:
      activation: relu
      batch_input_shape: !!python/tuple [null, 4]
      dtype: float32
      name: dense
      trainable: true
      units: 3
      use_bias: true
  - class_name: BatchNormalization
    config:
      axis: ${axis}
      center: true
      dtype: float32
      epsilon: 0.001
      momentum: 0.99
      name: batch_normalization
      scale: true
      trainable: true
  name: sequential
keras_version: 2.2.4-tf
`;

test('tf.keras YAML: the ListWrapper tag on BatchNormalization.axis reads as the list it wraps', () => {
  const text = tfKerasYAML(`!!python/object/apply:${TRACKING}.ListWrapper\n      - - 1`);
  const parsed = parseKerasYAML(text) as { config: { layers: { config: Record<string, unknown> }[] } };
  assert.deepEqual(parsed.config.layers[1].config.axis, [1]);
  const model = modelFromYAML(text).build(0);
  assert.deepEqual(model.layers[1].getConfig().axis, [1]);
  assert.equal(model.countParams().total, 4 * 3 + 3 + 4 * 3);
  model.dispose();
});

test('the dict and tuple wrappers of the same module (and its TensorFlow 2.11 name) read as their value', () => {
  const doc = `a: !!python/object/apply:${TRACKING}._DictWrapper\n- {k: 1}\nb: !!python/object/apply:${TRACKING}._TupleWrapper\n- [2, 3]\nc: !!python/object/apply:tensorflow.python.trackable.data_structures.ListWrapper\n- [4]\n`;
  assert.deepEqual(parseKerasYAML(doc), { a: { k: 1 }, b: [2, 3], c: [4] });
});

test('!!python/object/apply:os.system where the ListWrapper stood is refused, naming the field', () => {
  const text = tfKerasYAML(`!!python/object/apply:os.system\n      - echo owned`);
  assert.throws(
    () => modelFromYAML(text),
    (e: unknown) => e instanceof ConfigDecodeError && e.path === 'config.layers.1.config.axis' && /os\.system/.test(e.message),
  );
});

test('a tag inside a wrapper is still checked, and a wrapper must hold exactly one argument', () => {
  const inner = `x: !!python/object/apply:${TRACKING}.ListWrapper\n- !!python/object/apply:os.system [ls]\n`;
  assert.throws(() => parseKerasYAML(inner), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'x' && /os\.system/.test(e.message));
  const two = `x: !!python/object/apply:${TRACKING}.ListWrapper\n- [1]\n- [2]\n`;
  assert.throws(() => parseKerasYAML(two), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'x' && /one argument/.test(e.message));
  const other = `x: !!python/object/apply:${TRACKING}.NoDependency\n- [1]\n`;
  assert.throws(() => parseKerasYAML(other), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'x');
});
