/**
 * Keras FAQ, "How can I use pre-trained models in Keras?": the
 * keras.applications architectures with their ImageNet weights (fetched once
 * into Keras's cache, ~/.keras/models, checked against Keras's hash), or any
 * pretrained Keras model file. This program uses a pretrained network that
 * ships offline, the Keras MobileNetV2 classifier inside the npm package
 * nsfwjs: it classifies nsfwjs's logo as nsfwjs's own test expects, then
 * lends its body to `applications.MobileNetV2({ include_top: false })` as a
 * feature extractor (Keras's `load_weights(by_name=True)`). Last, it asks for
 * Keras's ImageNet MobileNetV2 and says where the weights came from, or why
 * there are none (offline, nothing cached).
 *
 *   npx tsx examples/faq/pretrained.ts
 *   RXKERAS_FAQ_SMALL=1 npx tsx examples/faq/pretrained.ts   # shorter download wait (test/examples/faq.test.ts runs this)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as rx from '../../src/index.js';
import { CLASSES, LOGO, SNAPSHOT, writeNsfwjsModel } from '../nsfwjs-model.js';
import { SMALL } from './toy-data.js';

await rx.initBackend({ quiet: true });

// 1. A pretrained classifier (TF.js layers format, written by Keras 2.2.4's converter).
const classifier = rx.io.loadLayersModel(writeNsfwjsModel());
const [, height, width] = classifier.inputs[0].shape as number[];
const image = rx.ops.tidy(() => {
  const pixels = rx.applications.imgToArray(rx.applications.loadImg(LOGO));
  // nsfwjs's own preprocessing: bilinear resize with aligned corners, scaled to [0, 1]
  return rx.ops.expandDims(rx.ops.div(rx.ops.image.resizeBilinear(pixels, [height, width], true), 255), 0);
});
const scores = Array.from((classifier.predict(image) as rx.ops.Tensor).dataSync());
const best = scores.indexOf(Math.max(...scores));
console.log(`pretrained classifier: ${CLASSES[best]} ${scores[best].toFixed(4)} (nsfwjs's own test: ${CLASSES[SNAPSHOT.indexOf(Math.max(...SNAPSHOT))]} ${Math.max(...SNAPSHOT).toFixed(4)})`);

// 2. Its body as a feature extractor: Keras's MobileNetV2 without the top, the pretrained weights copied by layer name.
const base = await rx.applications.MobileNetV2({ include_top: false, pooling: 'avg', weights: null, input_shape: [height, width, 3] });
const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'faq-pretrained-')), 'body.h5');
await classifier.saveWeights(file);
await base.loadWeights(file, { byName: true });
const withWeights = (m: rx.Model) => Object.entries(m.variables!.params).filter(([, w]) => Object.keys(w).length > 0).map(([name]) => name);
const shared = withWeights(base).filter((name) => withWeights(classifier).includes(name)).length;
const features = base.predict(image) as rx.ops.Tensor;
console.log(`feature extractor: ${shared} of ${withWeights(base).length} layers with weights pretrained; features of shape ${JSON.stringify(features.shape)}`);
rx.ops.dispose([image, features]);
classifier.dispose();
base.dispose();

// 3. Keras's own ImageNet weights: from the cache, else downloaded from Keras's URL (not reachable offline).
try {
  const imagenet = await rx.applications.MobileNetV2({ weights: 'imagenet', download: { timeoutMs: SMALL ? 3000 : 30_000 } });
  console.log(`ImageNet MobileNetV2: ${imagenet.countParams().total} parameters, weights from Keras's cache`);
  imagenet.dispose();
} catch (e) {
  if (!(e instanceof rx.applications.WeightsDownloadError)) throw e;
  console.log(`ImageNet MobileNetV2: no weights here (${e.message.split('\n')[0]})`);
}
