/**
 * FAQ: "How is the validation split computed?" validationSplit: 0.2 holds
 * out the last 20% of the rows, taken before shuffling, and the same rows
 * every epoch. Here each row's target is its own index, and a metric
 * function records the targets it sees, so we can print which rows the
 * model trained on and which it was validated on, epoch by epoch.
 */
import { tap } from 'rxjs';
import * as rx from '../../src/index.js';
import { SMALL } from './toy-data.js';

await rx.initBackend({ quiet: true });
const n = SMALL ? 20 : 40;
const x = Array.from({ length: n }, (_, i) => [i / n]);
const y = x.map((_, i) => [i]);

let seen: number[] = []; // targets of the batches since the last batchEnd
let trainRows: number[] = [];
const rowIds = (yTrue: rx.ops.Tensor, yPred: rx.ops.Tensor) => {
  seen.push(...yTrue.dataSync());
  return rx.ops.zerosLike(yPred);
};
const model = new rx.Sequential({ layers: [rx.Dense({ units: 1, input_shape: [1] })] }).build(1);
model.compile({ optimizer: 'sgd', loss: 'mse', metrics: [rowIds] }, 1);
const report = tap<rx.FitEvent>((e) => {
  if (e.type === 'epochStart') (seen = []), (trainRows = []);
  if (e.type === 'batchEnd') (trainRows.push(...seen), (seen = []));
  if (e.type === 'epochEnd') {
    console.log(`epoch ${e.epoch + 1}: trained on rows in this order: ${trainRows.join(' ')}`);
    console.log(`epoch ${e.epoch + 1}: validated on rows: ${seen.join(' ')}`);
  }
});
await model.fit(x, y, { epochs: 2, batchSize: 4, validationSplit: 0.2, verbose: 0, callbacks: [report] });
console.log(`${n} rows, validationSplit 0.2: the last ${n - Math.floor(n * 0.8)} rows (from row ${Math.floor(n * 0.8)}) are held out, before shuffling, every epoch`);
