/**
 * Keras FAQ, "How can I run a Keras model on multiple GPUs?", data
 * parallelism: `parallel_model = multi_gpu_model(model, gpus=8)`, then
 * `parallel_model.fit(x, y, epochs=20, batch_size=256)`: every batch of 256
 * is split over the replicas, and the template model holds the trained
 * weights (save it, not the parallel model). Without GPUs the replicas run
 * on CPU worker devices, one per core.
 *
 *   npx tsx examples/faq/data-parallelism.ts
 *   RXKERAS_FAQ_SMALL=1 npx tsx examples/faq/data-parallelism.ts   # seconds (test/examples/faq.test.ts runs this)
 */
import { mkdirSync } from 'node:fs';
import * as rx from '../../src/index.js';
import { SMALL } from './toy-data.js';

await rx.initBackend();
const small = SMALL;
const { train } = rx.loadMnist({ seed: 1 });
const n = small ? 512 : train.count;
const x = rx.ops.tensor2d(train.images.slice(0, n * 784), [n, 784]);
const y = rx.ops.oneHot(rx.ops.tensor1d(train.labels.slice(0, n), 'int32'), 10);

const model = new rx.Sequential({
  layers: [rx.Dense({ units: 256, activation: 'relu', input_shape: [784] }), rx.Dense({ units: 10, activation: 'softmax' })],
});
model.build(1);

const replicas = Math.min(2, rx.listDevices().length - 1);
const parallelModel = rx.multiGpuModel(model, { gpus: replicas });
parallelModel.compile({ optimizer: 'rmsprop', loss: 'categorical_crossentropy', metrics: ['accuracy'] }, 1);
const history = await parallelModel.fit(x, y, { epochs: small ? 2 : 20, batchSize: 256, verbose: small ? 0 : 1 });
console.log(`data parallelism (${replicas} replicas): accuracy ${history.history.accuracy.map((a) => (a as number).toFixed(4)).join(' -> ')}`);

// The template model has the trained weights.
mkdirSync('models', { recursive: true });
await model.save('models/faq-data-parallel.h5');
await parallelModel.dispose();
