/**
 * FAQ: "How can I use Keras with datasets that don't fit in memory?" Either
 * drive the steps yourself with trainOnBatch / testOnBatch, or give fit a
 * data set that makes batches on demand (Keras's fit_generator): here a
 * generator that never ends, with stepsPerEpoch batches per epoch. Only the
 * batches being used are ever in memory.
 */
import * as rx from '../../src/index.js';
import { fromGenerator } from '../../streams/index.js';
import { SMALL, toyData } from './toy-data.js';

await rx.initBackend({ quiet: true });
const batchSize = 32;
const make = () => {
  const m = new rx.Sequential({ layers: [rx.Dense({ units: 1, activation: 'sigmoid', input_shape: [8] })] }).build(1);
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] }, 1);
  return m;
};

// 1. The steps by hand: each batch is made, used and dropped.
const manual = make();
const steps = SMALL ? 20 : 200;
let logs: Record<string, number> = {};
for (let step = 0; step < steps; step++) {
  const { x, y } = toyData(batchSize, 1000 + step);
  logs = manual.trainOnBatch(x, y);
}
const held = toyData(batchSize, 1);
console.log(`trainOnBatch x ${steps}: last loss ${logs.loss.toFixed(4)}; testOnBatch on new rows: ${JSON.stringify(manual.testOnBatch(held.x, held.y), (_, v) => (typeof v === 'number' ? +v.toFixed(4) : v))}`);

// 2. An endless generator of batches: stepsPerEpoch says where an epoch ends.
let made = 0;
const batches = fromGenerator(function* () {
  for (;;) {
    const { x, y } = toyData(batchSize, 5000 + made++);
    yield [x, y] as [number[][], number[][]];
  }
});
const history = await make().fit(batches, { epochs: 3, stepsPerEpoch: SMALL ? 5 : 50, verbose: 0 });
console.log(`fit on a generator: ${history.history.loss.length} epochs of ${SMALL ? 5 : 50} steps, ${made} batches made; accuracy per epoch ${history.history.accuracy.map((a) => a.toFixed(3)).join(', ')}`);
