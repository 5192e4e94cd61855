import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { backendReady } from '../helpers/backend.js';
import * as rx from '../../src/index.js';
import * as ops from '../../src/ops/index.js';
import { tensors } from '../../src/core/tree.js';
import { configureDevices, disposeDevices } from '../../src/parallel/devices.js';
import { Placement } from '../../src/models/placement.js';
import { trainStep } from '../../src/training/steps.js';
import { startState } from '../../src/training/setup.js';

await backendReady;
before(() => configureDevices({ cpuWorkers: 2, threadsPerWorker: 1 }));
after(() => disposeDevices());

/**
 * The Keras FAQ's device-parallel model, small: two sequence inputs, one
 * shared LSTM called on each (on /cpu:1 and /cpu:2 when placed), the codes
 * concatenated on /cpu:0, a Dense head. `placed: false` builds the same
 * model with no placement; equal seeds give equal weights.
 */
function faqModel(placed: boolean): rx.Model {
  rx.resetNames();
  const a = rx.Input({ shape: [5, 6], name: 'a' });
  const b = rx.Input({ shape: [5, 6], name: 'b' });
  const lstm = rx.LSTM({ units: 4, name: 'shared_lstm' });
  const at = <T>(device: string, f: () => T) => (placed ? rx.onDevice(device, f) : f());
  const codeA = at('/cpu:1', () => lstm.call(a));
  const codeB = at('/cpu:2', () => lstm.call(b));
  const merged = at('/cpu:0', () => rx.Concatenate({ axis: -1 }).call([codeA, codeB]));
  const out = rx.Dense({ units: 3, activation: 'softmax', name: 'head', kernel_regularizer: { class_name: 'L2', config: { l2: 0.01 } } }).call(merged);
  const m = new rx.Model({ inputs: [a, b], outputs: out });
  m.build(5);
  m.compile({ optimizer: rx.SGD({ learning_rate: 1 }), loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

const XA = ops.randomNormal([8, 5, 6], 0, 1, 'float32', 1);
const XB = ops.randomNormal([8, 5, 6], 0, 1, 'float32', 2);
const Y = ops.oneHot(ops.tensor1d([0, 1, 2, 1, 0, 2, 2, 1], 'int32'), 3);

function maxRelDiff(a: ops.Tensor[], b: ops.Tensor[]): number {
  return Math.max(...a.map((t, i) => ops.tidy(() => ops.max(ops.div(ops.abs(ops.sub(t, b[i])), ops.add(ops.abs(b[i]), 1e-3))).dataSync()[0])));
}

test('the placement is kept in the config under rxkeras_devices, per call; a model without placements has no such key', () => {
  const placed = faqModel(true);
  const plain = faqModel(false);
  const config = JSON.parse(placed.toJSON());
  const lstm = config.config.layers.find((l: { name: string }) => l.name === 'shared_lstm');
  assert.deepEqual(lstm.rxkeras_devices, ['/cpu:1', '/cpu:2']);
  assert.ok(!plain.toJSON().includes('rxkeras_devices'));
  const again = rx.modelFromJSON(placed.toJSON());
  assert.equal(again.toJSON(), placed.toJSON());
  assert.throws(() => rx.onDevice('gpu0', () => 0), /onDevice: device: expected a device name such as '\/cpu:1'/);
  for (const m of [placed, plain, again]) m.dispose();
});

test("one training step of the placed model equals the unplaced model's: outputs, loss and gradients within 1e-5 (the shared LSTM gets the sum of both devices' gradients)", async () => {
  const placed = faqModel(true);
  const plain = faqModel(false);
  const before = ops.memory().numTensors;
  const runner = new Placement(placed, placed.compiled!.compiled);
  const batch = { x: [XA, XB], y: [Y] };
  const outputs = await runner.test(placed.variables!, batch);
  const expected = plain.predict([XA, XB]) as ops.Tensor;
  assert.ok(maxRelDiff(outputs.predictions, [expected]) < 1e-5);
  ops.dispose([outputs.loss, ...outputs.outputLosses, ...outputs.predictions, expected]);

  // With SGD at learning rate 1, the step's change of every weight is minus its gradient.
  const { state: ts } = startState(placed, placed.compiled!, placed.variables!);
  const { state: tsPlain } = startState(plain, plain.compiled!, plain.variables!);
  const mine = await runner.train(ts, batch); // takes ts (the placed model's weights) over
  placed.variables = undefined;
  const theirs = trainStep(plain, plain.compiled!.compiled, tsPlain, batch);
  assert.ok(Math.abs(mine.result.loss.dataSync()[0] - theirs.result.loss.dataSync()[0]) < 1e-5, `loss ${mine.result.loss.dataSync()[0]} vs ${theirs.result.loss.dataSync()[0]}`);
  const leavesOf = (p: rx.TensorTree) => tensors(p);
  const d = maxRelDiff(leavesOf(mine.state.params), leavesOf(theirs.state.params));
  assert.ok(d < 1e-5, `updated weights differ by ${d}`);
  await runner.close();
  for (const r of [mine, theirs]) ops.dispose([...tensors(r.state), r.result.loss, ...r.result.outputLosses, ...r.result.predictions]);
  for (const m of [placed, plain]) m.dispose();
  assert.ok(ops.memory().numTensors <= before, `tensors left: ${ops.memory().numTensors - before}`);
});

test('fit on the placed model trains as the unplaced one does (History within 1e-4)', async () => {
  const placed = faqModel(true);
  const plain = faqModel(false);
  const options = { batchSize: 4, epochs: 3, shuffle: false, verbose: 0 as const, validationSplit: 0.25 };
  const h1 = await placed.fit([XA, XB], Y, options);
  const h2 = await plain.fit([XA, XB], Y, options);
  for (const k of Object.keys(h2.history)) h2.history[k].forEach((v, i) => assert.ok(Math.abs((h1.history[k][i] as number) - (v as number)) < 1e-4, `${k}[${i}] ${h1.history[k][i]} vs ${v}`));
  assert.ok(h1.history.loss[2] < h1.history.loss[0]);
  for (const m of [placed, plain]) m.dispose();
});
