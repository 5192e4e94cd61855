/**
 * The TF.js layers-model format: a model written by saveLayersModel reads
 * back bit for bit and is read by @tensorflow/tfjs-layers itself; quantized
 * weights decode as tfjs-core does; missing and short shards are typed
 * errors naming the file; and the real MobileNetV2 classifier shipped in the
 * npm package nsfwjs reproduces that package's own tested prediction.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import jpeg from 'jpeg-js';
import { TfjsFormatError, type LayersModelJSON } from '../../src/io/index.js';
import { loadLayersModel } from '../../src/models/index.js';
import { Conv2D, Dense, Flatten, Input, BatchNormalization } from '../../src/layers/index.js';
import { Model } from '../../src/models/model.js';
import { backendReady } from '../helpers/backend.js';
import { CLASSES, LOGO, SNAPSHOT, writeNsfwjsModel } from '../../examples/nsfwjs-model.js';

await backendReady;

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-model-'));

function smallModel(): Model {
  const x = Input({ shape: [6, 6, 2] });
  let y = Conv2D({ filters: 3, kernel_size: 3, activation: 'relu' }).call(x);
  y = BatchNormalization({}).call(y);
  y = Dense({ units: 4, activation: 'softmax' }).call(Flatten({}).call(y));
  return new Model({ inputs: x, outputs: y, name: 'small' }).build(5);
}

/** tfjs-layers's own loader, fed the files as tfjs's file handler reads them. */
function tfjsHandler(file: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as LayersModelJSON;
      const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(path.dirname(file), p))));
      const data = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.length),
        format: json.format,
      };
    },
  };
}

const input = () => tf.randomUniform([3, 6, 6, 2], -1, 1, 'float32', 11);

describe('TF.js layers format', () => {
  it('saveLayersModel -> loadLayersModel: the same weights bit for bit and the same outputs', async () => {
    const m = smallModel();
    const dir = tmp();
    await m.saveLayersModel(dir);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['group1-shard1of1.bin', 'model.json']);
    const back = loadLayersModel(path.join(dir, 'model.json'));
    const [a, b] = [m.getWeights(), back.getWeights()];
    assert.equal(b.length, a.length);
    a.forEach((w, i) => assert.deepEqual(Array.from(b[i].dataSync()), Array.from(w.dataSync())));
    const x = input();
    const [ya, yb] = [m.predict(x), back.predict(x)] as tf.Tensor[];
    assert.deepEqual(Array.from(yb.dataSync()), Array.from(ya.dataSync()));
    tf.dispose([...a, ...b, x, ya, yb]);
    m.dispose();
    back.dispose();
  });

  it('@tensorflow/tfjs-layers reads what saveLayersModel writes and predicts the same', async () => {
    const m = smallModel();
    const dir = tmp();
    await m.saveLayersModel(dir);
    const theirs = await tfl.loadLayersModel(tfjsHandler(path.join(dir, 'model.json')));
    const x = input();
    const [ya, yb] = [m.predict(x) as tf.Tensor, theirs.predict(x) as tf.Tensor];
    const [p, q] = [ya.dataSync(), yb.dataSync()];
    p.forEach((v, i) => assert.ok(Math.abs(v - q[i]) < 1e-6, `${v} vs ${q[i]}`));
    tf.dispose([x, ya, yb]);
    theirs.dispose();
    m.dispose();
  });

  it('large models are split into 4 MB shards as tfjs does', async () => {
    const x = Input({ shape: [1100] });
    const m = new Model({ inputs: x, outputs: Dense({ units: 1000 }).call(x) }).build(1);
    const dir = tmp();
    await m.saveLayersModel(dir);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as LayersModelJSON;
    assert.deepEqual(json.weightsManifest[0].paths, ['group1-shard1of2.bin', 'group1-shard2of2.bin']);
    assert.equal(fs.statSync(path.join(dir, 'group1-shard1of2.bin')).size, 4 * 1024 * 1024);
    const back = loadLayersModel(path.join(dir, 'model.json'));
    assert.deepEqual(Array.from(back.getWeights()[0].dataSync().slice(-5)), Array.from(m.getWeights()[0].dataSync().slice(-5)));
    m.dispose();
    back.dispose();
  });

  it('uint8, uint16 and float16 weights decode as tfjs-core decodes them', async () => {
    const m = smallModel();
    const dir = tmp();
    await m.saveLayersModel(dir);
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as LayersModelJSON;
    const raw = fs.readFileSync(path.join(dir, json.weightsManifest[0].paths[0]));
    // Re-encode: the kernel as uint8, the bias as uint16, the rest as float16.
    const parts: Buffer[] = [];
    let offset = 0;
    const expected: number[][] = [];
    json.weightsManifest[0].weights.forEach((w, i) => {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(raw.buffer.slice(raw.byteOffset + offset, raw.byteOffset + offset + n * 4));
      offset += n * 4;
      const dtype = i === 0 ? 'uint8' : i === 1 ? 'uint16' : 'float16';
      if (dtype === 'float16') {
        const half = Uint16Array.from(Array.from(values), (v) => toHalf(v));
        parts.push(Buffer.from(half.buffer));
        w.quantization = { dtype };
      } else {
        const [min, max] = [Math.min(...values), Math.max(...values)];
        const scale = (max - min) / (dtype === 'uint8' ? 255 : 65535) || 1;
        const ints = (dtype === 'uint8' ? Uint8Array : Uint16Array).from(Array.from(values, (v) => Math.round((v - min) / scale)));
        parts.push(Buffer.from(ints.buffer));
        w.quantization = { dtype, min, scale };
      }
      expected.push(Array.from(tf.io.decodeWeights(parts[parts.length - 1].buffer.slice(0) as ArrayBuffer, [w as tf.io.WeightsManifestEntry])[w.name].dataSync()));
    });
    fs.writeFileSync(path.join(dir, json.weightsManifest[0].paths[0]), Buffer.concat(parts));
    fs.writeFileSync(file, JSON.stringify(json));
    const back = loadLayersModel(file);
    back.getWeights().forEach((w, i) => {
      const got = w.dataSync();
      expected[i].forEach((v, j) => assert.ok(Math.abs(got[j] - v) <= 1e-6 * Math.max(1, Math.abs(v)), `${json.weightsManifest[0].weights[i].name}[${j}] ${got[j]} vs ${v}`));
    });
    m.dispose();
    back.dispose();
  });

  it('a missing or short shard is a TfjsFormatError naming the file; nothing leaks', async () => {
    const m = smallModel();
    const dir = tmp();
    await m.saveLayersModel(dir);
    m.dispose();
    const before = tf.memory().numTensors;
    const shard = path.join(dir, 'group1-shard1of1.bin');
    const bytes = fs.readFileSync(shard);
    fs.writeFileSync(shard, bytes.subarray(0, bytes.length - 8));
    assert.throws(() => loadLayersModel(path.join(dir, 'model.json')), (e: unknown) => e instanceof TfjsFormatError && e.file === shard && /too short/.test(e.message));
    fs.rmSync(shard);
    assert.throws(() => loadLayersModel(path.join(dir, 'model.json')), (e: unknown) => e instanceof TfjsFormatError && e.file === shard && /missing/.test(e.message));
    assert.throws(() => loadLayersModel(path.join(dir, 'nope.json')), TfjsFormatError);
    assert.equal(tf.memory().numTensors, before);
  });
});

describe("TF.js layers format: nsfwjs's pretrained MobileNetV2", () => {
  it('reproduces the package\'s own tested prediction on its logo (within 1e-5), as tfjs-layers does', async () => {
    const file = writeNsfwjsModel();
    const model = loadLayersModel(file);
    const img = jpeg.decode(fs.readFileSync(LOGO), { useTArray: true });
    // nsfwjs's classify: RGB / 255, resizeBilinear to 224 with align corners.
    const x = tf.tidy(() => {
      const rgba = tf.tensor3d(Int32Array.from(img.data), [img.height, img.width, 4], 'int32');
      const rgb = tf.div(tf.cast(tf.slice(rgba, [0, 0, 0], [-1, -1, 3]), 'float32'), 255) as tf.Tensor3D;
      return tf.reshape(tf.image.resizeBilinear(rgb, [224, 224], true), [1, 224, 224, 3]);
    });
    const y = model.predict(x) as tf.Tensor;
    const ours = Array.from(y.dataSync());
    SNAPSHOT.forEach((p, i) => assert.ok(Math.abs(ours[i] - p) < 1e-5, `${CLASSES[i]}: ${ours[i]} vs nsfwjs's ${p}`));
    assert.equal(CLASSES[ours.indexOf(Math.max(...ours))], 'Drawing');
    const theirs = await tfl.loadLayersModel(tfjsHandler(file));
    const z = theirs.predict(x) as tf.Tensor;
    z.dataSync().forEach((v, i) => assert.ok(Math.abs(v - ours[i]) < 1e-6));
    tf.dispose([x, y, z]);
    theirs.dispose();
    model.dispose();
  });
});

/** float32 -> IEEE half (round to nearest even), for writing float16 shards. */
function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const i = new Uint32Array(f.buffer)[0];
  const sign = (i >>> 16) & 0x8000;
  const exp = ((i >>> 23) & 0xff) - 127 + 15;
  const mant = i & 0x7fffff;
  if (exp <= 0) return sign | Math.round((mant | 0x800000) / 2 ** (14 - exp));
  if (exp >= 31) return sign | 0x7c00;
  let h = sign | (exp << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return h;
}
