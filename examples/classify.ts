/**
 * `npx tsx examples/classify.ts IMAGE [MODEL]`: the top 5 classes of an image.
 *
 * Without MODEL: Keras's MobileNetV2 with its ImageNet weights (from the Keras
 * cache, ~/.keras/models, or downloaded), classes named by decode_predictions.
 * Offline and with nothing cached it says so and runs with random weights.
 * With MODEL (a TF.js model.json or a whole-model .h5): its top 5 outputs; for
 * 1000 outputs named as ImageNet classes. `examples/classify.ts LOGO nsfwjs`
 * uses the MobileNetV2 classifier shipped in the npm package nsfwjs.
 */
import * as rx from '../src/index.js';
import { CLASSES, LOGO, writeNsfwjsModel } from './nsfwjs-model.js';

const [image = LOGO, source] = process.argv.slice(2);
await rx.initBackend({ quiet: true });

let model: rx.Model;
let labels: string[] | null = null;
let preprocess = (x: rx.ops.Tensor) => rx.applications.mobilenet_v2.preprocessInput(x);
if (source === undefined) {
  try {
    model = await rx.applications.MobileNetV2({ weights: 'imagenet' });
  } catch (e) {
    if (!(e instanceof rx.applications.WeightsDownloadError)) throw e;
    console.log(`${e.message}\nContinuing with random weights (weights: null): the classes below mean nothing.`);
    model = await rx.applications.MobileNetV2({ weights: null });
    model.build(1);
  }
} else if (source === 'nsfwjs') {
  model = rx.io.loadLayersModel(writeNsfwjsModel());
  labels = CLASSES;
  preprocess = (x) => rx.ops.div(x, 255); // nsfwjs scales to [0, 1]
} else model = source.endsWith('.json') ? rx.io.loadLayersModel(source) : await rx.loadModel(source);

const [, height, width] = model.inputs[0].shape as number[];
// Keras's load_img resizing, except for nsfwjs, which resizes as its classify() does (bilinear, align corners).
const img = rx.applications.loadImg(image, source === 'nsfwjs' ? {} : { target_size: [height, width], interpolation: 'bilinear' });
const x = rx.ops.tidy(() => {
  const pixels = rx.applications.imgToArray(img);
  const sized = source === 'nsfwjs' ? rx.ops.image.resizeBilinear(pixels, [height, width], true) : pixels;
  return rx.ops.expandDims(preprocess(sized), 0);
});
const y = model.predict(x) as rx.ops.Tensor;
if (y.shape[1] === 1000) {
  for (const [wnid, name, score] of rx.applications.decodePredictions(y)[0]) console.log(`${name.padEnd(24)} ${wnid}  ${score.toFixed(4)}`);
} else {
  const scores = Array.from(y.dataSync());
  const top = scores.map((s, i) => [i, s] as const).sort((a, b) => b[1] - a[1]).slice(0, 5);
  for (const [i, s] of top) console.log(`${(labels?.[i] ?? `class ${i}`).padEnd(24)} ${s.toFixed(4)}`);
}
rx.ops.dispose([x, y]);
model.dispose();
