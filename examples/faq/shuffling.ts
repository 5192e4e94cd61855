/**
 * FAQ: "Is the data shuffled during training?" With arrays, fit reshuffles
 * the training rows before every epoch (shuffle: true, the default); the
 * validation rows are never shuffled. With shuffle: false the rows come in
 * order. A data set (rxkeras/streams) is shuffled by its own shuffle()
 * operator, seeded, a new order per epoch. Each row's target is its index,
 * recorded by a metric function, so we can print the order.
 */
import { tap } from 'rxjs';
import * as rx from '../../src/index.js';
import { batch, fromArrays, shuffle } from '../../streams/index.js';
import { SMALL } from './toy-data.js';

await rx.initBackend({ quiet: true });
const n = SMALL ? 12 : 16;
const x = Array.from({ length: n }, (_, i) => [i / n]);
const y = x.map((_, i) => [i]);
let order: number[] = [];
const rowIds = (yTrue: rx.ops.Tensor, yPred: rx.ops.Tensor) => {
  order.push(...yTrue.dataSync());
  return rx.ops.zerosLike(yPred);
};
const show = (what: string) =>
  tap<rx.FitEvent>((e) => {
    if (e.type === 'epochStart') order = [];
    if (e.type === 'epochEnd') console.log(`${what}, epoch ${e.epoch + 1}: ${order.join(' ')}`);
  });
const model = () => {
  const m = new rx.Sequential({ layers: [rx.Dense({ units: 1, input_shape: [1] })] }).build(1);
  m.compile({ optimizer: 'sgd', loss: 'mse', metrics: [rowIds] }, 7);
  return m;
};
await model().fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, callbacks: [show('arrays, shuffle: true')] });
await model().fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0, callbacks: [show('arrays, shuffle: false')] });
await model().fit(fromArrays(x, y).pipe(shuffle({ seed: 3 }), batch(4)), { epochs: 2, verbose: 0, callbacks: [show('data set, shuffle({ seed: 3 })')] });
