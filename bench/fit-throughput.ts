/**
 * `npm run bench`: the same MLP and CNN trained on the same synthetic data
 * with rxkeras and with tfjs-layers' model.fit, on the same backend, in one
 * run, after a warm-up. Prints samples/s for each and the ratio
 * (rxkeras / tfjs-layers).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as rx from '../src/index.js';

const backend = await rx.initBackend();
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 2);

interface Case {
  name: string;
  batchSize: number;
  samples: number;
  inputShape: number[];
  rxkeras: () => rx.Layer[];
  tfjs: () => tfl.layers.Layer[];
}

const cases: Case[] = [
  {
    name: 'mlp',
    batchSize: 128,
    samples: 128 * 24,
    inputShape: [784],
    rxkeras: () => [
      rx.Dense({ units: 512, activation: 'relu', input_shape: [784] }),
      rx.Dense({ units: 512, activation: 'relu' }),
      rx.Dense({ units: 10, activation: 'softmax' }),
    ],
    tfjs: () => [
      tfl.layers.dense({ units: 512, activation: 'relu', inputShape: [784] }),
      tfl.layers.dense({ units: 512, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  },
  {
    name: 'cnn',
    batchSize: 64,
    samples: 64 * 10,
    inputShape: [28, 28, 1],
    rxkeras: () => [
      rx.Conv2D({ filters: 32, kernel_size: 3, activation: 'relu', input_shape: [28, 28, 1] }),
      rx.MaxPooling2D({}),
      rx.Conv2D({ filters: 64, kernel_size: 3, activation: 'relu' }),
      rx.MaxPooling2D({}),
      rx.Flatten({}),
      rx.Dense({ units: 128, activation: 'relu' }),
      rx.Dense({ units: 10, activation: 'softmax' }),
    ],
    tfjs: () => [
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 128, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  },
];

async function timeRxkeras(c: Case, x: tf.Tensor, y: tf.Tensor): Promise<number> {
  const model = new rx.Sequential({ layers: c.rxkeras() });
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' }, 1);
  await model.fit(x, y, { batchSize: c.batchSize, epochs: 1, verbose: 0 }); // warm-up
  const start = performance.now();
  await model.fit(x, y, { batchSize: c.batchSize, epochs: EPOCHS, verbose: 0 });
  const seconds = (performance.now() - start) / 1000;
  model.dispose();
  return (c.samples * EPOCHS) / seconds;
}

async function timeTfjsLayers(c: Case, x: tf.Tensor, y: tf.Tensor): Promise<number> {
  const model = tfl.sequential({ layers: c.tfjs() });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  await model.fit(x, y, { batchSize: c.batchSize, epochs: 1, verbose: 0 }); // warm-up
  const start = performance.now();
  await model.fit(x, y, { batchSize: c.batchSize, epochs: EPOCHS, verbose: 0 });
  const seconds = (performance.now() - start) / 1000;
  model.dispose();
  return (c.samples * EPOCHS) / seconds;
}

console.log(`backend: ${backend}, epochs timed: ${EPOCHS}`);
for (const c of cases) {
  const x = tf.randomUniform([c.samples, ...c.inputShape], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([c.samples], 0, 10, 'int32', 2), 10);
  // Alternate the order so that neither always runs on a warmer machine.
  const peer1 = await timeTfjsLayers(c, x, y);
  const ours1 = await timeRxkeras(c, x, y);
  const ours2 = await timeRxkeras(c, x, y);
  const peer2 = await timeTfjsLayers(c, x, y);
  const ours = (ours1 + ours2) / 2;
  const peer = (peer1 + peer2) / 2;
  console.log(`${c.name} rxkeras ${ours.toFixed(0)} samples/s, tfjs-layers ${peer.toFixed(0)} samples/s`);
  console.log(`${c.name} rxkeras/tfjs-layers samples/s ratio: ${(ours / peer).toFixed(2)}`);
  tf.dispose([x, y]);
}
