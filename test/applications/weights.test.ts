/**
 * `weights: 'imagenet'` as Keras loads it: from the Keras cache
 * ($KERAS_HOME/models), else a download that fails with a typed error naming
 * the URL and the path to place the file at; hash checks; weights saved by
 * one instance load into another (whole model, and the top file by name into
 * a model without top).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as apps from '../../src/applications/index.js';
import { getFile, WeightsDownloadError, WeightsHashError } from '../../src/applications/index.js';
import * as rxApps from '../../src/models/applications.js';
import { backendReady } from '../helpers/backend.js';

await backendReady;

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'keras-home-'));
const previousHome = process.env.KERAS_HOME;
before(() => (process.env.KERAS_HOME = home));
after(() => {
  if (previousHome === undefined) delete process.env.KERAS_HOME;
  else process.env.KERAS_HOME = previousHome;
  fs.rmSync(home, { recursive: true, force: true });
});

/** A loopback port with nothing listening: a closed network that answers at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const SMALL = { alpha: 0.25, input_shape: [128, 128, 3] as [number, number, number] };
const image = () => tf.randomUniform([2, 128, 128, 3], -1, 1, 'float32', 7);

describe('applications: ImageNet weights from the Keras cache', () => {
  it("weights: 'imagenet' reads Keras's file name from $KERAS_HOME/models and gives the saving model's outputs", async () => {
    const source = await rxApps.MobileNet({ ...SMALL, weights: null });
    source.build(3);
    const spec = apps.MobileNet({ ...SMALL, weights: 'imagenet' });
    assert.ok(spec.weights && typeof spec.weights === 'object');
    assert.equal(spec.weights.fileName, 'mobilenet_2_5_128_tf.h5');
    assert.equal(spec.weights.url, 'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_2_5_128_tf.h5');
    fs.mkdirSync(path.join(home, 'models'), { recursive: true });
    await source.saveWeights(path.join(home, 'models', spec.weights.fileName));

    const loaded = await rxApps.MobileNet({ ...SMALL, weights: 'imagenet' });
    assert.equal(loaded.name, 'mobilenet_0.25_128');
    const x = image();
    const [a, b] = [source.predict(x), loaded.predict(x)] as tf.Tensor[];
    assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));

    // include_top: false reads the same layers' weights, by name, from the file with the top.
    const notop = await rxApps.MobileNet({ ...SMALL, weights: null, include_top: false });
    await notop.loadWeights(path.join(home, 'models', spec.weights.fileName), { byName: true });
    const bodyOf = (m: typeof source) => m.getWeights().slice(0, notop.getWeights().length);
    const [p, q] = [bodyOf(source), notop.getWeights()];
    q.forEach((w, i) => assert.deepEqual(Array.from(w.dataSync()), Array.from(p[i].dataSync())));
    tf.dispose([x, a, b, ...p, ...q]);
    [source, loaded, notop].forEach((m) => m.dispose());
  });

  it('a weights path given as weights: loads that file', async () => {
    const source = (await rxApps.MobileNetV2({ alpha: 0.35, input_shape: [96, 96, 3], weights: null, include_top: false, pooling: 'avg' })).build(4);
    const file = path.join(home, 'mnv2.h5');
    await source.saveWeights(file);
    const loaded = await rxApps.MobileNetV2({ alpha: 0.35, input_shape: [96, 96, 3], weights: file, include_top: false, pooling: 'avg' });
    const x = tf.randomUniform([1, 96, 96, 3], -1, 1, 'float32', 3);
    const [a, b] = [source.predict(x), loaded.predict(x)] as tf.Tensor[];
    assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    source.dispose();
    loaded.dispose();
  });

  it("a notop file is the one Keras names for include_top: false", () => {
    const notop = (f: () => apps.ApplicationSpec) => (f().weights as apps.WeightsFile).fileName;
    assert.equal(notop(() => apps.ResNet50({ include_top: false })), 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5');
    assert.equal(notop(() => apps.MobileNetV2({ include_top: false, alpha: 0.5, input_shape: [160, 160, 3] })), 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_160_no_top.h5');
    assert.equal(notop(() => apps.MobileNetV2({ alpha: 1.0 })), 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5');
    assert.equal(notop(() => apps.NASNetMobile({ include_top: false })), 'nasnet_mobile_no_top.h5');
    assert.equal((apps.NASNetLarge({}).weights as apps.WeightsFile).url, 'https://storage.googleapis.com/tensorflow/keras-applications/nasnet/NASNet-large.h5');
    assert.equal((apps.DenseNet201({ include_top: false }).weights as apps.WeightsFile).fileHash, 'c13680b51ded0fb44dff2d8f86ac8bb1');
  });
});

describe('applications: downloads', () => {
  it('offline: a typed error naming the URL and where to place the file, quickly, and nothing left in the cache', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`;
    const started = Date.now();
    const sink = { write: () => true } as unknown as NodeJS.WriteStream;
    await assert.rejects(getFile('vgg16_notop.h5', url, { timeoutMs: 5000, stream: sink }), (e: unknown) => {
      assert.ok(e instanceof WeightsDownloadError);
      assert.equal(e.url, url);
      assert.equal(e.path, path.join(home, 'models', 'vgg16_notop.h5'));
      assert.match(e.message, /place it at .*vgg16_notop\.h5/);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
    assert.deepEqual(fs.readdirSync(path.join(home, 'models')).filter((f) => f.startsWith('vgg16')), []);
  });

  it('a cached file with the wrong hash is fetched again, and a failed fetch leaves it as it was', async () => {
    const file = path.join(home, 'models', 'stale.h5');
    fs.writeFileSync(file, 'not the weights');
    const sink = { write: () => true } as unknown as NodeJS.WriteStream;
    const url = `http://127.0.0.1:${await closedPort()}/stale.h5`;
    await assert.rejects(getFile('stale.h5', url, { fileHash: '0'.repeat(32), stream: sink, timeoutMs: 5000 }), WeightsDownloadError);
    assert.equal(fs.readFileSync(file, 'utf8'), 'not the weights');
    // With the right MD5 the cached file is used as it is.
    assert.equal(await getFile('stale.h5', url, { fileHash: md5('not the weights'), stream: sink }), file);
  });

  it('a hash mismatch of a downloaded file is a typed error, and the cache keeps nothing', async () => {
    const server = net.createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/w.h5`;
      const sink = { write: () => true } as unknown as NodeJS.WriteStream;
      await assert.rejects(getFile('served.h5', url, { fileHash: 'a'.repeat(64), stream: sink, timeoutMs: 5000 }), WeightsHashError);
      assert.equal(fs.existsSync(path.join(home, 'models', 'served.h5')), false);
      const ok = await getFile('served.h5', url, { fileHash: md5('hello'), stream: sink, timeoutMs: 5000 });
      assert.equal(fs.readFileSync(ok, 'utf8'), 'hello');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

function md5(text: string): string {
  return crypto.createHash('md5').update(text).digest('hex');
}
