/**
 * FAQ: "How can I record the training / validation loss / accuracy at each
 * epoch?" fit resolves with a History: history.history holds one list per
 * log (loss, metrics and their val_ twins), one value per epoch. plotHistory
 * draws it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as rx from '../../src/index.js';
import { SMALL, toyData } from './toy-data.js';

await rx.initBackend({ quiet: true });
const { x, y } = toyData(SMALL ? 100 : 1000);
const model = new rx.Sequential({ layers: [rx.Dense({ units: 16, activation: 'relu', input_shape: [8] }), rx.Dense({ units: 1, activation: 'sigmoid' })] }).build(1);
model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] }, 1);
const history = await model.fit(x, y, { epochs: 3, batchSize: 32, validationSplit: 0.2, verbose: 0 });
console.log(`epochs: ${history.epoch.join(', ')}`);
for (const [key, values] of Object.entries(history.history)) console.log(`${key}: ${values.map((v) => v.toFixed(4)).join(', ')}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faq-history-'));
await rx.plotHistory(history, path.join(dir, 'history.svg'));
console.log(`plotHistory drew ${fs.statSync(path.join(dir, 'history.svg')).size} bytes of SVG`);
fs.rmSync(dir, { recursive: true, force: true });
