/**
 * The MobileNetV2 classifier that the npm package nsfwjs ships (a Keras 2.2.4
 * `keras.applications` MobileNetV2 base with a dense head, in the TF.js
 * layers format with uint8-quantized weights; a devDependency). The package wraps model.json
 * and its shard in JavaScript modules; this writes them out as the plain
 * model.json + shard that `tf.loadLayersModel` reads.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// The package exports no model files: find them beside its main entry (dist/cjs/index.js).
const root = path.resolve(path.dirname(require.resolve('nsfwjs')), '../..');

/** Writes the package's MobileNetV2 model as `<tmp>/model.json` + shard; returns the model.json path. */
export function writeNsfwjsModel(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsfwjs-'))): string {
  const json = require(path.join(root, 'dist/models/mobilenet_v2/model.min.js')) as { weightsManifest: { paths: string[] }[] };
  const shard = require(path.join(root, 'dist/models/mobilenet_v2/group1-shard1of1.min.js')) as string;
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  fs.writeFileSync(path.join(dir, json.weightsManifest[0].paths[0]), Buffer.from(shard, 'base64'));
  return path.join(dir, 'model.json');
}

/** The logo nsfwjs's own regression test classifies (test/fixtures/nsfwjs/PROVENANCE.md). */
export const LOGO = new URL('../test/fixtures/nsfwjs/nsfwjs_logo.jpg', import.meta.url).pathname;

/** nsfwjs's snapshot for the logo (__tests__/__snapshots__/regressionCheck.ts.snap), by class index (NSFW_CLASSES order). */
export const SNAPSHOT = [0.6877415776252747, 0.00210934947244823, 0.31009718775749207, 0.00003717914660228416, 0.000014760436897631735];
export const CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];
