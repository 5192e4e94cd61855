/**
 * Real Keras files (test/fixtures/keras, see its README): layer configs
 * written by Keras decode, and re-serialise to the same keys and values;
 * the advanced-activation layers reproduce the activations Keras computed
 * (read with Debian's python3-h5py, an independent reader), within 1e-5 of
 * the largest magnitude.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { layerFromConfig } from '../../src/layers/registry.js';
import { PYTHON, needsPython } from '../helpers/python.js';

const fixtures = fileURLToPath(new URL('../fixtures/keras/', import.meta.url));

interface KerasLayer {
  class_name: string;
  config: Record<string, unknown>;
}
const layersOf = (file: string): KerasLayer[] => {
  const model = JSON.parse(readFileSync(fixtures + file, 'utf8')) as { config: { layers: KerasLayer[] } | KerasLayer[] };
  return Array.isArray(model.config) ? model.config : model.config.layers;
};

/** Keras's values survive our decode and serialise, key by key (we may add keys newer Keras writes, such as groups). */
function assertKerasKeys(layer: KerasLayer): void {
  const ours = layerFromConfig(layer).getConfig() as Record<string, unknown>;
  for (const [key, value] of Object.entries(layer.config)) {
    assert.deepEqual(ours[key], value, `${layer.class_name}.${key}`);
  }
}

describe('Keras-written configs', () => {
  const files = [
    'dl4j/configs/mnist_cnn_tf_keras_2_config.json',
    'kotlindl/model_full.json',
    ...['ELU_0', 'LeakyReLU_0', 'ReLU_0', 'ReLU_1', 'ReLU_2', 'ReLU_3', 'Softmax_0', 'ThresholdReLU_0'].map((n) => `dl4j/activations/${n}_config.json`),
  ];
  for (const file of files)
    test(file, () => {
      const layers = layersOf(file);
      assert.ok(layers.length > 0);
      for (const layer of layers) assertKerasKeys(layer);
    });
});

describe('advanced activations reproduce Keras outputs', { skip: needsPython('h5py') }, () => {
  for (const name of ['ELU_0', 'LeakyReLU_0', 'ReLU_0', 'ReLU_1', 'ReLU_2', 'ReLU_3', 'Softmax_0', 'ThresholdReLU_0'])
    test(name, () => {
      const [, layer] = layersOf(`dl4j/activations/${name}_config.json`);
      const layerName = layer.config.name as string;
      const script = `import h5py, json, sys
f = h5py.File(sys.argv[1], 'r')
print(json.dumps({'x': f['activations/dense'][()].tolist(), 'y': f['activations/' + sys.argv[2]][()].tolist()}))`;
      const out = execFileSync(PYTHON, ['-c', script, `${fixtures}dl4j/activations/${name}_inputs_and_outputs.h5`, layerName], { encoding: 'utf8' });
      const { x, y } = JSON.parse(out) as { x: number[][]; y: number[][] };
      const before = tf.memory().numTensors;
      const input = tf.tensor2d(x);
      const result = layerFromConfig(layer).apply({}, {}, input, { training: false }).outputs as tf.Tensor;
      const got = result.dataSync();
      const want = y.flat();
      const scale = Math.max(...want.map(Math.abs));
      want.forEach((v, i) => assert.ok(Math.abs(got[i] - v) <= 1e-5 * scale, `${name}[${i}]: ${got[i]} vs Keras ${v}`));
      tf.dispose([input, result]);
      assert.equal(tf.memory().numTensors, before);
    });
});
