// Data parallelism with compiled replicas: each worker device runs its
// gradient step as one ONNX Runtime graph (and the fused optimizer update),
// and training still equals eager single-device training on the same
// global batches (within 1e-4 relative, the compiled steps' tolerance).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { backendReady } from '../helpers/backend.js';
import * as rx from '../../src/index.js';
import * as ops from '../../src/ops/index.js';
import { tensors } from '../../src/core/tree.js';
import { configureDevices, disposeDevices, getDevice, listDevices } from '../../src/parallel/devices.js';
import { multiGpuModel } from '../../src/models/multi-gpu-model.js';
import { customObjects } from './fixtures/faulty.js';
import { captureStderr } from '../helpers/stderr.js';

await backendReady;
before(() => configureDevices({ cpuWorkers: 4, threadsPerWorker: 1, backend: 'compiled' }));
after(() => disposeDevices());

// 23 rows in batches of 8: 8, 8, 7. Replica 1 gets 4 rows of each, a share of 1/2 twice and then 4/7:
// the same shapes with another share, which the compiled step must take as an input, not a constant.
const X = ops.randomNormal([23, 6], 0, 1, 'float32', 5);
const Y = ops.oneHot(ops.tensor1d(Array.from({ length: 23 }, (_, i) => (i * 7) % 3), 'int32'), 3);

/** The test model; `variant` adds a kernel constraint. */
function model(optimizer: rx.Optimizer, variant?: 'constraint'): rx.Sequential {
  const m = new rx.Sequential({
    layers: [
      rx.Dense({ units: 16, activation: 'relu', input_shape: [6], kernel_regularizer: { class_name: 'L2', config: { l2: 0.01 } }, ...(variant === 'constraint' ? { kernel_constraint: 'max_norm' } : {}) }),
      rx.Dense({ units: 3, activation: 'softmax' }),
    ],
  });
  m.build(11);
  m.compile({ optimizer, loss: 'categorical_crossentropy', metrics: ['accuracy'] }, 11);
  return m;
}

function maxRelDiff(a: rx.Model, b: rx.Model): number {
  const [wa, wb] = [a.getWeights(), b.getWeights()];
  const worst = Math.max(...wa.map((w, i) => ops.tidy(() => ops.max(ops.div(ops.abs(ops.sub(w, wb[i])), ops.add(ops.abs(wb[i]), 1e-3))).dataSync()[0])));
  ops.dispose([...wa, ...wb]);
  return worst;
}

/** Trains `single` on this thread and `parallel` over `gpus` replicas on the same data; their History and weights must agree within 1e-4; both are disposed. */
async function assertSameTraining(single: rx.Sequential, parallel: rx.Sequential, x: ops.Tensor, y: ops.Tensor, gpus: number, batchSize: number): Promise<void> {
  const options = { batchSize, epochs: 3, shuffle: false, verbose: 0 as const };
  const h1 = await single.fit(x, y, options);
  const p = multiGpuModel(parallel, { gpus });
  const h2 = await p.fit(x, y, options).finally(() => p.close());
  for (const k of Object.keys(h1.history))
    h1.history[k].forEach((v, i) => assert.ok(Math.abs((h2.history[k][i] as number) - (v as number)) < 1e-4, `${k}[${i}]: ${h2.history[k][i]} vs ${v}`));
  const d = maxRelDiff(parallel, single);
  assert.ok(d < 1e-4, `weights differ by ${d} (relative)`);
  for (const m of [single, parallel]) {
    ops.dispose(tensors(m.compiled?.optState));
    m.dispose();
  }
}

// 32 rows in batches of 8: every step repeats the last, so that from the fourth step on each replica runs the session
// it captured (StepPlan) instead of tracing.
test('compiled replicas whose steps repeat run their captured graphs, and train 3 epochs to the weights and History of eager single-device training within 1e-4', async () => {
  const x = ops.randomNormal([32, 6], 0, 1, 'float32', 7);
  const y = ops.oneHot(ops.tensor1d(Array.from({ length: 32 }, (_, i) => (i * 5) % 3), 'int32'), 3);
  const planned = () => getDevice('/cpu:1').call<number>(new URL('./fixtures/planned-steps.ts', import.meta.url), 'plannedSteps', {});
  const before = await planned();
  await assertSameTraining(model(rx.Adam({ learning_rate: 0.02 })), model(rx.Adam({ learning_rate: 0.02 })), x, y, 2, 8);
  // 12 steps: the first three are traced (the jit traces two, then replays the third, whose capture agrees with the
  // second's), the other 9 run the captured session.
  assert.equal((await planned()) - before, 9, 'steps that ran the captured session on /cpu:1');
  ops.dispose([x, y]);
});

test('the worker devices run the compiled backend', async () => {
  assert.equal(listDevices().find((d) => d.name === '/cpu:1')?.backend, 'compiled');
  const info = await getDevice('/cpu:1').call<{ chosen: string; compiledSteps: boolean }>(new URL('./fixtures/backend-info.ts', import.meta.url), 'backendInfo', {});
  assert.deepEqual(info, { chosen: 'compiled', compiledSteps: true });
});

// Batches of 8 with a last one of 7, so that the shares differ between steps. The replicas update their ranges of the
// weights and optimizer slots in place in shared memory (one to three slots per weight); a constrained layer is
// updated in their heaps.
// With 3 and 4 replicas the ranges are uneven and the shards too (batches of 10 over 4: 2, 2, 2 and 4 rows). A replica
// alone updates everything in place, reading the gradients in its own slot; constrained, it updates in its heap.
for (const [name, optimizer, variant, gpus = 2, batchSize = 8] of [
  ['Adam', () => rx.Adam({ learning_rate: 0.02 })],
  ['SGD with momentum', () => rx.SGD({ learning_rate: 0.1, momentum: 0.9 })],
  ['Adam with AMSGrad', () => rx.Adam({ learning_rate: 0.02, amsgrad: true })],
  ['centered RMSprop with momentum', () => rx.RMSprop({ learning_rate: 0.01, momentum: 0.5, centered: true })],
  ['Adam, a max-norm kernel constraint', () => rx.Adam({ learning_rate: 0.02 }), 'constraint'],
  ['Adam, 3 replicas', () => rx.Adam({ learning_rate: 0.02 }), undefined, 3],
  ['SGD with momentum, 4 replicas, batches of 10', () => rx.SGD({ learning_rate: 0.1, momentum: 0.9 }), undefined, 4, 10],
  ['Adam, 1 replica', () => rx.Adam({ learning_rate: 0.02 }), undefined, 1],
  ['Adam, 1 replica, a max-norm kernel constraint', () => rx.Adam({ learning_rate: 0.02 }), 'constraint', 1],
] as const)
  test(`compiled replicas train 3 epochs (${name}, L2) to the weights and History of eager single-device training within 1e-4`, () =>
    assertSameTraining(model(optimizer(), variant), model(optimizer(), variant), X, Y, gpus, batchSize),
  );

test("a compiled replica that falls back to eager steps says so on the main thread's stderr (a worker is quiet), once per replica", async () => {
  rx.registerCustomObjects(customObjects);
  const input = rx.Input({ shape: [6] });
  const summed = rx.Lambda({ function: 'running_sum', name: 'sum' }).call(input);
  const m = new rx.Model({ inputs: input, outputs: rx.Dense({ units: 3, activation: 'softmax' }).call(summed) });
  m.build(1);
  m.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy' });
  const p = multiGpuModel(m, { gpus: 2, setup: [new URL('./fixtures/faulty.ts', import.meta.url)] });
  const lines = await captureStderr(() => p.fit(X, Y, { batchSize: 8, epochs: 2, verbose: 0 }).finally(() => p.close()));
  for (const device of ['/cpu:1', '/cpu:2']) {
    const said = lines.filter((l) => l.includes(`the replica on ${device} runs its steps eagerly: kernel 'Cumsum' has no lowering`));
    assert.equal(said.length, 1, `${device}, stderr: ${lines.join('')}`);
  }
  ops.dispose(tensors(m.compiled?.optState));
  m.dispose();
});

test("stepPhases says where each replica's steps spent their time (gradients, go-ahead, exchange, update), every step counted once, within the fit's wall time", async () => {
  const m = model(rx.Adam({ learning_rate: 0.02 }));
  const p = multiGpuModel(m, { gpus: 2 });
  try {
    assert.deepEqual(await p.stepPhases(), [], 'no replicas before the first fit');
    await p.fit(X, Y, { batchSize: 8, epochs: 1, verbose: 0 });
    await p.stepPhases(); // from here
    const start = performance.now();
    await p.fit(X, Y, { batchSize: 8, epochs: 2, verbose: 0 });
    const wall = performance.now() - start;
    const phases = await p.stepPhases();
    assert.equal(phases.length, 2);
    for (const ph of phases) {
      // 23 rows in batches of 8: 3 steps an epoch, every one staged but each epoch's first.
      assert.equal(ph.steps, 6);
      assert.ok(ph.gradients > 0 && ph.exchange > 0 && ph.update > 0 && ph.goAhead >= 0, JSON.stringify(ph));
      assert.ok(ph.gradients + ph.goAhead + ph.exchange + ph.update < wall, `${JSON.stringify(ph)} against a fit of ${wall} ms`);
    }
    // Taken: the next read starts from zero.
    assert.deepEqual((await p.stepPhases()).map((ph) => ph.steps), [0, 0]);
  } finally {
    await p.close();
    ops.dispose(tensors(m.compiled?.optState));
    m.dispose();
  }
});
