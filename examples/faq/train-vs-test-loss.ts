/**
 * FAQ: "Why is my training loss much higher than my testing loss?" A Keras
 * model has a training and a testing mode: Dropout (and L1/L2 weight
 * penalties, added to the training loss only) act in training only. On the
 * very same data, the loss fit reports is above the loss evaluate reports.
 */
import * as rx from '../../src/index.js';
import { SMALL, toyData } from './toy-data.js';

await rx.initBackend({ quiet: true });
const { x, y } = toyData(SMALL ? 128 : 2000);
const model = new rx.Sequential({
  layers: [
    rx.Dense({ units: 32, activation: 'relu', input_shape: [8], kernel_regularizer: { class_name: 'L2', config: { l2: 0.01 } } }),
    rx.Dropout({ rate: 0.5 }),
    rx.Dense({ units: 1, activation: 'sigmoid' }),
  ],
}).build(1);
model.compile({ optimizer: 'adam', loss: 'binary_crossentropy' }, 1);
const history = await model.fit(x, y, { epochs: SMALL ? 3 : 10, batchSize: 32, verbose: 0 });
const train = history.history.loss.at(-1)!;
const test = model.evaluate(x, y).loss;
console.log(`training loss (last epoch, Dropout and L2 on): ${train.toFixed(4)}`);
console.log(`test loss (same data, inference mode):        ${test.toFixed(4)}`);
console.log(`training loss above test loss: ${train > test}`);
