/**
 * preprocess_input's three modes and decode_predictions against values
 * computed by hand, and load_img / img_to_array on images written here
 * (pngjs, jpeg-js) with PIL's nearest and bilinear resampling worked out by hand.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodePredictions, ImageDecodeError, imgToArray, loadImg, preprocessInput, resize } from '../../src/applications/index.js';
import * as rxApps from '../../src/models/applications.js';
import { ShapeMismatchError } from '../../src/core/errors.js';
import { backendReady } from '../helpers/backend.js';

await backendReady;

const close = (a: ArrayLike<number>, b: number[], tol = 1e-5) => b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) <= tol, `[${i}] ${a[i]} vs ${v}`));

describe('preprocess_input', () => {
  const pixel = tf.tensor4d([10, 20, 30, 255, 0, 128], [1, 1, 2, 3]);
  it("'caffe': RGB -> BGR minus the ImageNet means (103.939, 116.779, 123.68)", () => {
    const y = preprocessInput(pixel, 'caffe');
    close(y.dataSync(), [30 - 103.939, 20 - 116.779, 10 - 123.68, 128 - 103.939, 0 - 116.779, 255 - 123.68]);
    y.dispose();
  });
  it("'tf': x / 127.5 - 1", () => {
    const y = rxApps.mobilenet_v2.preprocessInput(pixel);
    close(y.dataSync(), [10 / 127.5 - 1, 20 / 127.5 - 1, 30 / 127.5 - 1, 1, -1, 128 / 127.5 - 1]);
    y.dispose();
  });
  it("'torch': (x / 255 - mean) / std per channel", () => {
    const y = rxApps.densenet.preprocessInput(pixel);
    const m = [0.485, 0.456, 0.406];
    const s = [0.229, 0.224, 0.225];
    close(y.dataSync(), [10, 20, 30, 255, 0, 128].map((v, i) => (v / 255 - m[i % 3]) / s[i % 3]));
    y.dispose();
  });
  it("'caffe' in channels_first flips and centres axis 1; the input is left as it was; no tensor leaks", () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6], [3, 1, 2]);
    const y = rxApps.vgg16.preprocessInput(x, 'channels_first');
    close(y.dataSync(), [5 - 103.939, 6 - 103.939, 3 - 116.779, 4 - 116.779, 1 - 123.68, 2 - 123.68]);
    close(x.dataSync(), [1, 2, 3, 4, 5, 6]);
    tf.dispose([x, y]);
    assert.equal(tf.memory().numTensors, before);
    assert.throws(() => preprocessInput(pixel, 'keras' as 'tf'), /mode/);
  });
});

describe('decode_predictions', () => {
  it('the top classes by score with their WordNet ids and names, per row', () => {
    const scores = Array.from({ length: 2 }, () => new Array<number>(1000).fill(0));
    scores[0][1] = 0.5; // goldfish
    scores[0][999] = 0.3; // toilet_tissue
    scores[0][285] = 0.2; // Egyptian_cat
    scores[1][0] = 0.9;
    const preds = tf.tensor2d(scores);
    const out = decodePredictions(preds, 3);
    assert.deepEqual(out[0], [
      ['n01443537', 'goldfish', 0.5],
      ['n15075141', 'toilet_tissue', 0.30000001192092896],
      ['n02124075', 'Egyptian_cat', 0.20000000298023224],
    ]);
    assert.deepEqual(out[1][0], ['n01440764', 'tench', 0.8999999761581421]);
    assert.equal(decodePredictions(scores)[1].length, 5);
    assert.throws(() => decodePredictions(tf.zeros([2, 10])), ShapeMismatchError);
    preds.dispose();
  });
});

describe('load_img / img_to_array', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'load-img-'));
  /** A 4x2 RGBA PNG whose red channel is 10 * (column + 4 * row). */
  const png = path.join(dir, 'ramp.png');
  const p = new PNG({ width: 4, height: 2 });
  for (let i = 0; i < 8; i++) p.data.set([10 * i, 100, 200 - i, i % 2 ? 255 : 0], i * 4);
  fs.writeFileSync(png, PNG.sync.write(p));

  it('PNG as stored: RGB drops alpha; grayscale is PIL\'s L; rgba keeps it', () => {
    const rgb = loadImg(png);
    assert.deepEqual([rgb.height, rgb.width, rgb.channels], [2, 4, 3]);
    assert.deepEqual(Array.from(rgb.data.slice(0, 6)), [0, 100, 200, 10, 100, 199]);
    const gray = loadImg(png, { color_mode: 'grayscale' });
    assert.equal(gray.data[1], (10 * 19595 + 100 * 38470 + 199 * 7471 + 0x8000) >> 16);
    assert.equal(loadImg(png, { color_mode: 'rgba' }).data[7], 255);
    const x = imgToArray(rgb);
    assert.deepEqual(x.shape, [2, 4, 3]);
    assert.equal(x.dtype, 'float32');
    x.dispose();
  });

  it("target_size with Keras's default nearest resampling picks PIL's pixel centres", () => {
    const small = loadImg(png, { target_size: [1, 2] });
    // Column centres (x + 0.5) * 4 / 2 = 1, 3; row centre 0.5 * 2 = 1: pixels (1, 1) and (1, 3).
    assert.deepEqual([small.data[0], small.data[3]], [50, 70]);
    const big = loadImg(png, { target_size: [2, 8] });
    assert.deepEqual(Array.from({ length: 8 }, (_, i) => big.data[i * 3]), [0, 0, 10, 10, 20, 20, 30, 30]);
  });

  it("bilinear resampling matches PIL's fixed-point filter worked out by hand", () => {
    const row = { width: 4, height: 1, channels: 1 as const, data: Uint8Array.from([0, 100, 200, 40]) };
    // Downscale 4 -> 2: support 2; centre 1 weighs pixels 0, 1, 2 (centres 0.5, 1.5, 2.5) by
    // tri(0.25), tri(0.25), tri(0.75) = 0.75, 0.75, 0.25: (0 * .75 + 100 * .75 + 200 * .25) / 1.75 = 71.4;
    // centre 3 weighs pixels 1, 2, 3 by 0.25, 0.75, 0.75: (25 + 150 + 30) / 1.75 = 117.1.
    const down = resize(row, 2, 1, 'bilinear');
    assert.deepEqual(Array.from(down.data), [71, 117]);
    // Upscale 4 -> 8: centres at 0.25, 0.75, ...; first output = pixel 0 alone (clipped), second 0.75*0 + 0.25*100.
    const up = resize(row, 8, 1, 'bilinear');
    assert.deepEqual(Array.from(up.data.slice(0, 3)), [0, 25, 75]);
  });

  it('JPEG through jpeg-js, and a typed error for what is not an image', () => {
    const jpg = path.join(dir, 'flat.jpg');
    const raw = new Uint8Array(16 * 16 * 4).fill(0);
    for (let i = 0; i < 256; i++) raw.set([200, 50, 25, 255], i * 4);
    fs.writeFileSync(jpg, jpeg.encode({ data: raw, width: 16, height: 16 }, 95).data);
    const img = loadImg(jpg, { target_size: [8, 8] });
    assert.deepEqual([img.width, img.height], [8, 8]);
    close(img.data.slice(0, 3), [200, 50, 25], 3);
    const bad = path.join(dir, 'bad.txt');
    fs.writeFileSync(bad, 'hello');
    assert.throws(() => loadImg(bad), ImageDecodeError);
  });
});
