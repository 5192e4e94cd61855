/**
 * `npm run bench:apps`: inference samples/s of ResNet50 and MobileNetV2
 * (batch 8, 224x224) in rxkeras and in tfjs-layers, the same architecture
 * and weights (rxkeras's model written in the TF.js format and read by
 * tfjs-layers), on the same backend, in one run, after a warm-up, the timed
 * batches alternating between the two. Prints the
 * samples/s of each and `<model> rxkeras/tfjs-layers predict ratio: R`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as rx from '../src/index.js';

const backend = await rx.initBackend();
const BATCH = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** The files of a TF.js layers model, as tfjs's file handler reads them. */
function handler(file: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as rx.io.LayersModelJSON;
      const data = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(path.dirname(file), p)))));
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.length),
      };
    },
  };
}

/** Seconds of one batch through `predict`, read back to the host. */
function timeBatch(predict: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): number {
  const start = performance.now();
  const y = predict(x);
  y.dataSync();
  y.dispose();
  return (performance.now() - start) / 1000;
}

/**
 * Samples/s of both engines after two warm-up batches each; the timed batches
 * alternate between them so that a change in the machine's load falls on both.
 */
function compare(a: (x: tf.Tensor) => tf.Tensor, b: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): [number, number] {
  for (let i = 0; i < 2; i++) [a, b].forEach((f) => timeBatch(f, x));
  let [ta, tb] = [0, 0];
  for (let i = 0; i < ROUNDS; i++) {
    ta += timeBatch(a, x);
    tb += timeBatch(b, x);
  }
  return [(BATCH * ROUNDS) / ta, (BATCH * ROUNDS) / tb];
}

console.log(`backend: ${backend}, batch ${BATCH}, 224x224, ${ROUNDS} timed batches each`);
for (const [name, make] of [
  ['resnet50', () => rx.applications.ResNet50({ weights: null })],
  ['mobilenetv2', () => rx.applications.MobileNetV2({ weights: null })],
] as const) {
  const ours = (await make()).build(1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  await ours.saveLayersModel(dir);
  const theirs = await tfl.loadLayersModel(handler(path.join(dir, 'model.json')));
  const x = tf.randomUniform([BATCH, 224, 224, 3], -1, 1, 'float32', 1);
  const [a, b] = compare((v) => ours.predict(v, { batchSize: BATCH }) as tf.Tensor, (v) => theirs.predict(v, { batchSize: BATCH }) as tf.Tensor, x);
  console.log(`${name}: rxkeras ${a.toFixed(2)} samples/s, tfjs-layers ${b.toFixed(2)} samples/s`);
  console.log(`${name} rxkeras/tfjs-layers predict ratio: ${(a / b).toFixed(2)}`);
  x.dispose();
  ours.dispose();
  theirs.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
}
