/**
 * The keras.applications architectures: parameter counts against Keras's
 * table, structure against a Keras-written MobileNetV2 topology, tops and
 * pooling, input shapes (and the ones Keras refuses), JSON round trips and
 * memory. Shapes and counts come from the symbolic graph: only the smaller
 * models allocate weights.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as apps from '../../src/applications/index.js';
import type { ApplicationOptions, ApplicationSpec } from '../../src/applications/index.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { modelFromJSON } from '../../src/models/index.js';
import { Model } from '../../src/models/model.js';
import { backendReady } from '../helpers/backend.js';
import { writeNsfwjsModel } from '../../examples/nsfwjs-model.js';
import { countFromConfig } from './param-count.js';

await backendReady;

const model = (spec: ApplicationSpec) => new Model({ inputs: spec.inputs[0], outputs: spec.outputs, name: spec.name });
const build = (name: keyof typeof KERAS, o: ApplicationOptions = {}) => model((apps[name] as (o: ApplicationOptions) => ApplicationSpec)({ weights: null, ...o }));

/** Keras's documented parameter counts (include_top, 1000 classes), and each model's default input size. */
const KERAS = {
  Xception: [22_910_480, 299],
  VGG16: [138_357_544, 224],
  VGG19: [143_667_240, 224],
  ResNet50: [25_636_712, 224],
  InceptionV3: [23_851_784, 299],
  InceptionResNetV2: [55_873_736, 299],
  MobileNet: [4_253_864, 224],
  MobileNetV2: [3_538_984, 224],
  DenseNet121: [8_062_504, 224],
  DenseNet169: [14_307_880, 224],
  DenseNet201: [20_242_984, 224],
  NASNetMobile: [5_326_716, 224],
  NASNetLarge: [88_949_818, 331],
} as const;
const NAMES = Object.keys(KERAS) as (keyof typeof KERAS)[];

describe('applications: parameter counts', () => {
  for (const name of NAMES)
    it(`${name} has Keras's ${KERAS[name][0].toLocaleString('en')} parameters and default input ${KERAS[name][1]}`, () => {
      const m = build(name);
      assert.deepEqual(m.inputs[0].shape, [null, KERAS[name][1], KERAS[name][1], 3]);
      assert.deepEqual(m.outputs[0].shape, [null, 1000]);
      assert.equal(countFromConfig(m), KERAS[name][0]);
    });

  it('allocated weights count the same as the formulas, with Keras trainable / non-trainable splits', () => {
    const before = tf.memory().numTensors;
    for (const [name, trainable] of [['MobileNet', 4_231_976], ['MobileNetV2', 3_504_872], ['NASNetMobile', 5_289_978]] as const) {
      const m = build(name).build(1);
      const c = m.countParams();
      assert.equal(c.total, KERAS[name][0], name);
      assert.equal(c.trainable, trainable, name);
      m.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('applications: structure', () => {
  it('MobileNetV2 without top has the layers, classes, configs and connections of the Keras-written MobileNetV2 that nsfwjs ships', () => {
    const keras = JSON.parse(fs.readFileSync(writeNsfwjsModel(), 'utf8')).modelTopology.model_config.config.layers as {
      name: string;
      class_name: string;
      config: Record<string, unknown>;
      inbound_nodes: [string, number, number][][];
    }[];
    const end = keras.findIndex((l) => l.name === 'out_relu');
    const theirs = keras.slice(1, end + 1);
    const ours = (JSON.parse(build('MobileNetV2', { include_top: false }).toJSON()).config.layers as typeof keras).slice(1);
    assert.equal(ours.length, theirs.length);
    const keys = ['filters', 'kernel_size', 'strides', 'padding', 'use_bias', 'depth_multiplier', 'momentum', 'epsilon', 'max_value', 'activation'];
    ours.forEach((l, i) => {
      const k = theirs[i];
      assert.equal(l.name, k.name);
      assert.equal(l.class_name, k.class_name, l.name);
      const inbound = (n: typeof l) => n.inbound_nodes.map((node) => node.map((t) => (t[0].startsWith('input') ? 'input' : t[0])));
      assert.deepEqual(inbound(l), inbound(k), l.name);
      for (const key of keys) if (key in k.config) assert.deepEqual(l.config[key], k.config[key], `${l.name}.${key}`);
    });
  });

  it('layer names follow Keras, unnamed layers included', () => {
    const names = (m: Model) => m.layers.map((l) => l.name);
    const resnet = names(build('ResNet50'));
    assert.deepEqual(resnet.slice(1, 8), ['conv1_pad', 'conv1_conv', 'conv1_bn', 'conv1_relu', 'pool1_pad', 'pool1_pool', 'conv2_block1_1_conv']);
    assert.deepEqual(resnet.slice(-3), ['conv5_block3_out', 'avg_pool', 'predictions']);
    assert.equal(resnet.length, 177);
    const vgg = build('VGG19').layers.map((l) => `${l.className}:${l.name}`);
    assert.deepEqual(vgg.slice(-6), ['Conv2D:block5_conv4', 'MaxPooling2D:block5_pool', 'Flatten:flatten', 'Dense:fc1', 'Dense:fc2', 'Dense:predictions']);
    const inception = build('InceptionV3');
    assert.equal(inception.layers.length, 313);
    assert.ok(inception.layers.some((l) => l.name === 'mixed9_1'));
    assert.match(inception.layers[1].name, /^conv2d(_\d+)?$/);
    assert.equal(build('InceptionResNetV2').layers.length, 782);
    assert.equal(build('DenseNet121').layers.length, 429);
    assert.equal(build('NASNetMobile').layers.length, 771);
  });

  it('tops, pooling and input shapes as in Keras', () => {
    const out = (name: keyof typeof KERAS, o: ApplicationOptions) => build(name, o).outputs[0].shape;
    assert.deepEqual(out('ResNet50', { include_top: false }), [null, null, null, 2048]);
    assert.deepEqual(out('ResNet50', { include_top: false, input_shape: [160, 200, 3] }), [null, 5, 7, 2048]);
    assert.deepEqual(out('DenseNet121', { include_top: false, pooling: 'avg' }), [null, 1024]);
    assert.deepEqual(out('Xception', { include_top: false, pooling: 'max' }), [null, 2048]);
    assert.deepEqual(out('InceptionV3', { include_top: false, input_shape: [75, 75, 3] }), [null, 1, 1, 2048]);
    assert.deepEqual(out('NASNetMobile', { include_top: false, pooling: 'avg' }), [null, 1056]);
    assert.deepEqual(out('MobileNet', { classes: 10, classifier_activation: null }), [null, 10]);
    assert.deepEqual(out('VGG16', { include_top: false, input_shape: [32, 32, 1] }), [null, 1, 1, 512]);
    assert.equal(build('MobileNetV2', { include_top: false, input_shape: [96, 96, 3] }).name, 'mobilenetv2_1.00_96');
    assert.equal(build('MobileNet', { include_top: false, alpha: 0.5 } as ApplicationOptions).name, 'mobilenet_0.50_None');
    const narrow = build('MobileNetV2', { alpha: 0.35 } as ApplicationOptions);
    assert.equal(narrow.getLayer('Conv1').config.filters, 16);
    assert.equal(narrow.getLayer('Conv_1').config.filters, 1280);
  });

  it("refuses the shapes and arguments Keras refuses, before any download", () => {
    const refuses = (f: () => unknown, field: RegExp) => assert.throws(f, (e: unknown) => e instanceof InvalidArgumentError && field.test(e.message));
    refuses(() => apps.ResNet50({ input_shape: [200, 200, 3] }), /input_shape.*\[224, 224, 3\]/);
    refuses(() => apps.ResNet50({ weights: null, include_top: false, input_shape: [31, 64, 3] }), /at least 32x32/);
    refuses(() => apps.InceptionV3({ weights: null, include_top: false, input_shape: [74, 299, 3] }), /at least 75x75/);
    refuses(() => apps.Xception({ include_top: false, input_shape: [299, 299, 4] }), /3 channels/);
    refuses(() => apps.VGG16({ weights: null, include_top: false, input_shape: [224, 224] }), /three integers/);
    refuses(() => apps.VGG16({ weights: null, input_shape: [null, null, 3] }), /static input_shape/);
    refuses(() => apps.VGG16({ classes: 10 }), /classes/);
    refuses(() => apps.VGG16({ weights: '/nonexistent/w.h5' }), /weights/);
    refuses(() => apps.MobileNet({ alpha: 0.3 }), /alpha/);
    refuses(() => apps.MobileNet({ depth_multiplier: 2 }), /depth_multiplier/);
    refuses(() => apps.MobileNetV2({ alpha: 0.6 }), /alpha/);
    refuses(() => apps.DenseNet121({ weights: null, pooling: 'sum' as 'avg' }), /pooling/);
    refuses(() => apps.NASNet({ weights: null, penultimate_filters: 1000 }), /penultimate_filters/);
    refuses(() => apps.NASNetLarge({ include_top: false, input_shape: [null, null, 3] }), /static/);
    refuses(() => apps.MobileNetV2({ weights: null, classifier_activation: 'relu', include_top: true, classes: 5 }).name.length && apps.MobileNetV2({ classifier_activation: 'relu' }), /classifier_activation/);
  });
});

describe('applications: JSON and memory', () => {
  it('toJSON -> modelFromJSON gives the same config for every architecture', () => {
    for (const name of NAMES) {
      const m = build(name, name === 'VGG16' || name === 'VGG19' ? {} : { include_top: false, pooling: 'avg' });
      const json = m.toJSON();
      assert.equal(modelFromJSON(json).toJSON(), json, name);
    }
  });

  it('building, running and disposing the architectures leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    for (const name of NAMES) build(name); // the graphs alone allocate nothing
    assert.equal(tf.memory().numTensors, before);
    for (const [name, size] of [['MobileNet', 32], ['MobileNetV2', 32], ['ResNet50', 32], ['DenseNet121', 32], ['NASNetMobile', 224], ['InceptionV3', 75], ['Xception', 71]] as const) {
      const m = build(name, { include_top: false, pooling: 'avg', input_shape: [size, size, 3] }).build(2);
      const x = tf.zeros([1, size, size, 3]);
      const y = m.predict(x) as tf.Tensor;
      assert.ok(y.shape[1]! > 0);
      tf.dispose([x, y]);
      m.dispose();
      assert.equal(tf.memory().numTensors, before, name);
    }
  });
});
