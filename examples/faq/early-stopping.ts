/**
 * FAQ: "How can I interrupt training when the validation loss isn't
 * decreasing anymore?" The EarlyStopping callback stops fit once `monitor`
 * has not improved for `patience` epochs (and can restore the best weights).
 */
import * as rx from '../../src/index.js';
import { SMALL, toyData } from './toy-data.js';

await rx.initBackend({ quiet: true });
// Few rows and a large model: it overfits, and val_loss soon stops improving.
const { x, y } = toyData(SMALL ? 60 : 200);
const model = new rx.Sequential({
  layers: [rx.Dense({ units: 64, activation: 'relu', input_shape: [8] }), rx.Dense({ units: 64, activation: 'relu' }), rx.Dense({ units: 1, activation: 'sigmoid' })],
}).build(1);
model.compile({ optimizer: { class_name: 'Adam', config: { learning_rate: 0.01 } }, loss: 'binary_crossentropy' }, 1);
const maxEpochs = 200;
const stopper = rx.EarlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true });
const history = await model.fit(x, y, { epochs: maxEpochs, batchSize: 16, validationSplit: 0.3, verbose: 0, callbacks: [stopper] });
const val = history.history.val_loss;
const best = val.indexOf(Math.min(...val));
console.log(`asked for ${maxEpochs} epochs, trained ${val.length}`);
console.log(`best val_loss ${val[best].toFixed(4)} at epoch ${best + 1}; the ${val.length - best - 1} epochs after it did not improve on it`);
console.log(`stopped early: ${val.length < maxEpochs}`);
