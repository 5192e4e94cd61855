/**
 * FAQ: "How can I remove a layer from a Sequential model?" pop() removes the
 * last layer (and its weights); add() puts a new one on top, for example a
 * new head for another task.
 */
import * as rx from '../../src/index.js';

await rx.initBackend({ quiet: true });
const model = new rx.Sequential({
  layers: [rx.Dense({ units: 16, activation: 'relu', input_shape: [8], name: 'features' }), rx.Dense({ units: 10, activation: 'softmax', name: 'digits' })],
}).build(1);
const names = () => model.layers.map((l) => l.name).join(', ');
console.log(`before pop: ${names()}; output shape ${JSON.stringify(model.outputs[0].shape)}`);
const removed = model.pop();
console.log(`popped '${removed.name}'; now: ${names()}; output shape ${JSON.stringify(model.outputs[0].shape)}`);
model.add(rx.Dense({ units: 1, activation: 'sigmoid', name: 'yes_no' }));
console.log(`after add: ${names()}; output shape ${JSON.stringify(model.outputs[0].shape)}; params ${model.countParams().total}`);
