/**
 * FAQ: "How can I save a Keras model?" model.save writes the architecture,
 * the weights, the training configuration and the optimizer state to one
 * HDF5 file; loadModel gives back a compiled model that resumes training
 * exactly where it stopped: 2 + 2 epochs equal 4 epochs in one go.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as rx from '../../src/index.js';
import { SMALL, toyData } from './toy-data.js';

await rx.initBackend({ quiet: true });
const { x, y } = toyData(SMALL ? 64 : 1000);
const make = () => {
  const m = new rx.Sequential({ layers: [rx.Dense({ units: 16, activation: 'relu', input_shape: [8] }), rx.Dense({ units: 1, activation: 'sigmoid' })] }).build(1);
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] }, 1);
  return m;
};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faq-save-'));
const file = path.join(dir, 'model.h5');

const straight = make();
const h4 = await straight.fit(x, y, { epochs: 4, batchSize: 32, verbose: 0 });

const first = make();
await first.fit(x, y, { epochs: 2, batchSize: 32, verbose: 0 });
await first.save(file);
console.log(`saved ${path.basename(file)} (${fs.statSync(file).size} bytes): architecture, weights, training config, optimizer state`);
// The file holds no random key (Keras's neither): give the same seed, and the shuffles and dropout of epochs 3 and 4 repeat.
const resumed = await rx.loadModel(file, { seed: 1 });
const h2 = await resumed.fit(x, y, { epochs: 4, initialEpoch: 2, batchSize: 32, verbose: 0 });

console.log(`4 epochs in one go, last loss:   ${h4.history.loss[3]}`);
console.log(`2 epochs, save, load, 2 more:    ${h2.history.loss[1]}`);
console.log(`resumed exactly: ${h4.history.loss[3] === h2.history.loss[1]}`);
fs.rmSync(dir, { recursive: true, force: true });
