/**
 * FAQ: "What does sample, batch, epoch mean?" A sample is one row; a batch
 * is the rows one gradient step sees; an epoch is one pass over the data set,
 * ceil(samples / batch size) steps. Here the data set is a stream
 * (rxkeras/streams): rows, batched, and fit counts its steps.
 */
import { tap } from 'rxjs';
import * as rx from '../../src/index.js';
import { batch, fromArrays } from '../../streams/index.js';
import { SMALL, toyData } from './toy-data.js';

await rx.initBackend({ quiet: true });
const samples = SMALL ? 50 : 1000;
const batchSize = SMALL ? 16 : 64;
const epochs = 2;
const { x, y } = toyData(samples);
const rows = fromArrays(x, y); // one element per sample
const model = new rx.Sequential({ layers: [rx.Dense({ units: 1, activation: 'sigmoid', input_shape: [8] })] }).build(1);
model.compile({ optimizer: 'sgd', loss: 'binary_crossentropy' }, 1);

const sizes: number[][] = [];
const countBatches: rx.Callback = tap((e) => {
  if (e.type === 'epochStart') sizes.push([]);
  if (e.type === 'batchEnd') sizes[sizes.length - 1].push(e.size);
});
await model.fit(rows.pipe(batch(batchSize)), { epochs, verbose: 0, callbacks: [countBatches] });
console.log(`samples: ${samples}, batch size: ${batchSize}, epochs: ${epochs}`);
sizes.forEach((s, e) => console.log(`epoch ${e + 1}: ${s.length} batches of ${s.join(', ')} samples`));
console.log(`steps per epoch = ceil(${samples} / ${batchSize}) = ${Math.ceil(samples / batchSize)}`);
