/**
 * Keras FAQ, "How can I run a Keras model on multiple GPUs?", device
 * parallelism: a shared LSTM encodes two sequences, each on its own device,
 * and the codes are concatenated on the main thread (Keras:
 * `with tf.device_scope('/gpu:0'): encoded_a = shared_lstm(tweet_a)`).
 * Without GPUs the two branches run on two CPU worker devices.
 *
 *   npx tsx examples/faq/device-parallelism.ts          # the FAQ's sizes
 *   RXKERAS_FAQ_SMALL=1 npx tsx examples/faq/device-parallelism.ts   # seconds (test/examples/faq.test.ts runs this)
 */
import * as rx from '../../src/index.js';
import { SMALL } from './toy-data.js';

await rx.initBackend();
const small = SMALL;
const [steps, features, units, samples, epochs] = small ? [12, 16, 8, 64, 2] : [140, 256, 64, 512, 3];

// Two worker devices, or the first two GPUs where tfjs-node-gpu sees them.
await rx.configureDevices({ cpuWorkers: 2, threadsPerWorker: 1 });
const gpus = rx.listDevices().filter((d) => d.kind === 'gpu').map((d) => d.name);
const [first, second] = gpus.length >= 2 ? gpus : ['/cpu:1', '/cpu:2'];

const tweetA = rx.Input({ shape: [steps, features] });
const tweetB = rx.Input({ shape: [steps, features] });
const sharedLstm = rx.LSTM({ units });
// Process the first sequence on one device, the second on another.
const encodedA = rx.onDevice(first, () => sharedLstm.call(tweetA));
const encodedB = rx.onDevice(second, () => sharedLstm.call(tweetB));
// Concatenate the results on the main thread.
const merged = rx.onDevice('/cpu:0', () => rx.Concatenate({ axis: -1 }).call([encodedA, encodedB]));
const predictions = rx.Dense({ units: 1, activation: 'sigmoid' }).call(merged);

const model = new rx.Model({ inputs: [tweetA, tweetB], outputs: predictions });
model.build(1);
model.compile({ optimizer: 'rmsprop', loss: 'binary_crossentropy', metrics: ['accuracy'] }, 1);

// Synthetic "tweets": is the first one louder than the second?
const a = rx.ops.randomNormal([samples, steps, features], 0, 1, 'float32', 1);
const b = rx.ops.randomNormal([samples, steps, features], 0, 1, 'float32', 2);
const y = rx.ops.tidy(() => rx.ops.reshape(rx.ops.cast(rx.ops.greater(rx.ops.sum(rx.ops.abs(a), [1, 2]), rx.ops.sum(rx.ops.abs(b), [1, 2])), 'float32'), [samples, 1]));
const history = await model.fit([a, b], y, { epochs, batchSize: 32, verbose: small ? 0 : 1 });
console.log(`device parallelism (${first}, ${second}): loss ${history.history.loss.map((l) => (l as number).toFixed(4)).join(' -> ')}`);
await rx.disposeDevices();
