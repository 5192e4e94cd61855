/**
 * FAQ: "How can I freeze Keras layers?" Set a layer's trainable to false
 * before compile: fit leaves its weights as they are and the summary counts
 * them as non-trainable. (Set it back and compile again to fine-tune.)
 */
import * as rx from '../../src/index.js';
import { SMALL, toyData } from './toy-data.js';

await rx.initBackend({ quiet: true });
const { x, y } = toyData(SMALL ? 64 : 512);
const frozen = rx.Dense({ units: 8, activation: 'relu', input_shape: [8], name: 'frozen' });
const head = rx.Dense({ units: 1, activation: 'sigmoid', name: 'head' });
const model = new rx.Sequential({ layers: [frozen, head] }).build(1);
frozen.trainable = false;
model.compile({ optimizer: 'adam', loss: 'binary_crossentropy' }, 1);
const snapshot = () => model.getWeights().map((t) => { const v = Array.from(t.dataSync()); t.dispose(); return v; });
const before = snapshot();
await model.fit(x, y, { epochs: 2, batchSize: 32, verbose: 0 });
const after = snapshot();
const same = (i: number) => before[i].every((v, k) => v === after[i][k]);
const counts = model.countParams();
console.log(`trainable params: ${counts.trainable}, non-trainable params: ${counts.nonTrainable}`);
console.log(`frozen kernel and bias unchanged by fit: ${same(0) && same(1)}`);
console.log(`head kernel changed by fit: ${!same(2)}`);
