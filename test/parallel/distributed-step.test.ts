// DistributedStep between two members in this thread (a real shared-memory
// collective): a step with every member's rows given by the batch
// (Batch.memberRows, as a sharded array source says them) and one where the
// members exchange them both equal one step on the whole batch; row counts
// that do not fit the batch are refused before any collective starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendReady } from '../helpers/backend.js';
import * as rx from '../../src/index.js';
import * as ops from '../../src/ops/index.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { disposeReplaced, leaves } from '../../src/core/tree.js';
import type { Optimizer, OptimizerState } from '../../src/optimizers/index.js';
import { DistributedStep } from '../../src/parallel/distributed-step.js';
import { RepeatingGradientStep } from '../../src/parallel/repeating-gradient-step.js';
import { withCompiledSteps } from '../helpers/compiled.js';
import { SharedMemoryCollective, createSharedGroup } from '../../src/parallel/shared-memory-collective.js';
import { startState } from '../../src/training/setup.js';
import { runCompiled, trainStep } from '../../src/training/steps.js';
import type { Batch, TrainState } from '../../src/training/types.js';

await backendReady;

const X = ops.randomNormal([5, 4], 0, 1, 'float32', 11);
const Y = ops.oneHot(ops.tensor1d([0, 2, 1, 1, 0], 'int32'), 3);

function model(): rx.Sequential {
  const m = new rx.Sequential({ layers: [rx.Dense({ units: 6, activation: 'tanh', input_shape: [4], kernel_regularizer: 'l2' }), rx.Dense({ units: 3, activation: 'softmax' })] });
  m.build(3);
  m.compile({ optimizer: rx.Adam({ learning_rate: 0.01 }), loss: 'categorical_crossentropy' }, 3);
  return m;
}

const start = (m: rx.Model): TrainState => startState(m, m.compiled!, m.variables!).state;
const rows = (from: number, to: number): Batch => ({ x: [ops.slice(X, [from], [to - from])], y: [ops.slice(Y, [from], [to - from])] });

/** The first Dense kernel after one step of two members on rows [0, 3) and [3, 5), with or without the row counts in the batch. */
async function twoMembers(withCounts: boolean): Promise<Float32Array[]> {
  const group = createSharedGroup(2, 1024);
  const parts = [rows(0, 3), rows(3, 5)].map((b) => (withCounts ? { ...b, memberRows: [3, 2] } : b));
  const kernels = await Promise.all(
    [0, 1].map(async (rank) => {
      const m = model();
      const step = new DistributedStep(m, m.compiled!.compiled, new SharedMemoryCollective(group, rank, { timeoutMs: 5000 }));
      const { state, result } = await step.train(start(m), parts[rank]);
      const kernel = (Object.values(state.params)[0] as Record<string, ops.Tensor>).kernel.dataSync() as Float32Array;
      ops.dispose([result.loss, ...result.outputLosses, ...result.predictions]);
      disposeReplaced(state, undefined);
      m.dispose();
      return kernel;
    }),
  );
  for (const b of parts) ops.dispose([...b.x, ...b.y]);
  return kernels;
}

test('a distributed step with the row counts from the batch, or exchanged, equals one step on the whole batch (1e-6)', async () => {
  const m = model();
  const whole = runCompiled(m, () => trainStep(m, m.compiled!.compiled, start(m), { x: [X], y: [Y] }));
  const expected = (Object.values(whole.state.params)[0] as Record<string, ops.Tensor>).kernel.dataSync();
  for (const withCounts of [true, false]) {
    for (const kernel of await twoMembers(withCounts)) {
      kernel.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${withCounts ? 'given' : 'exchanged'} counts, kernel[${i}]: ${v} vs ${expected[i]}`));
    }
  }
  ops.dispose([whole.result.loss, ...whole.result.outputLosses, ...whole.result.predictions]);
  disposeReplaced(whole.state, undefined);
  m.dispose();
});

test(
  'with compiled steps, two members whose steps repeat run their captured graphs from the fourth step, and end with the weights and optimizer state of single-process training on the whole batches (1e-5); with room in their memory, each updates its range in place',
  withCompiledSteps(async () => {
    const x = ops.randomNormal([40, 4], 0, 1, 'float32', 12);
    const y = ops.oneHot(ops.tensor1d(Array.from({ length: 40 }, (_, i) => (i * 7) % 3), 'int32'), 3);
    const batch = (k: number, from: number, to: number): Batch => ({ x: [ops.slice(x, [5 * k + from], [to - from])], y: [ops.slice(y, [5 * k + from], [to - from])] });
    // The weights, then the optimizer's (Adam's slots), flat.
    const valuesOf = (m: rx.Model, ts: TrainState) => [
      ...leaves(ts.params).flatMap(([, t]) => Array.from(t.dataSync())),
      ...(m.compiled!.compiled.optimizer as Optimizer).weights(ts.optState as OptimizerState).flatMap(([, t]) => Array.from(t.dataSync())),
    ];

    const m = model();
    let ts = start(m);
    for (let k = 0; k < 8; k++) {
      const whole = batch(k, 0, 5);
      const r = runCompiled(m, () => trainStep(m, m.compiled!.compiled, ts, whole));
      disposeReplaced(ts, r.state);
      ops.dispose([r.result.loss, ...r.result.outputLosses, ...r.result.predictions, ...whole.x, ...whole.y]);
      ts = r.state;
    }
    const expected = valuesOf(m, ts);
    disposeReplaced(ts, undefined);
    m.dispose();

    for (const updateRegions of [false, true]) {
      const planned = RepeatingGradientStep.planned;
      const group = createSharedGroup(2, 1024, { updateRegions });
      const runs = await Promise.all(
        [0, 1].map(async (rank) => {
          const member = model();
          const step = new DistributedStep(member, member.compiled!.compiled, new SharedMemoryCollective(group, rank, { timeoutMs: 5000 }));
          let state = start(member);
          for (let k = 0; k < 8; k++) {
            const part = { ...(rank === 0 ? batch(k, 0, 3) : batch(k, 3, 5)), memberRows: [3, 2] };
            const r = await step.train(state, part);
            ops.dispose([r.result.loss, ...r.result.outputLosses, ...r.result.predictions, ...part.x, ...part.y]);
            state = r.state;
          }
          const values = valuesOf(member, state);
          if (!step.lendsState) disposeReplaced(state, undefined);
          member.dispose();
          return { values, lends: step.lendsState };
        }),
      );
      // Each member traces three steps (the jit traces two, then replays one whose capture agrees), then runs the captured session.
      assert.equal(RepeatingGradientStep.planned - planned, 2 * 5, 'steps that ran a captured session');
      for (const { values, lends } of runs) {
        assert.equal(lends, updateRegions, 'the update ran in place');
        assert.equal(values.length, expected.length);
        values.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `${updateRegions ? 'in place' : 'all-reduced'}, value ${i}: ${v} vs ${expected[i]}`));
      }
    }
    ops.dispose([x, y]);
  }),
);

test('row counts that do not fit the batch are refused, naming what was expected', async () => {
  const m = model();
  const step = new DistributedStep(m, m.compiled!.compiled, new SharedMemoryCollective(createSharedGroup(2, 1024), 0, { timeoutMs: 5000 }));
  const batch = { ...rows(0, 3), memberRows: [2, 3] };
  await assert.rejects(step.train(start(m), batch), (e: Error) => e instanceof InvalidArgumentError && /2 row counts with 3 \(this batch's rows\) at rank 0/.test(e.message));
  ops.dispose([...batch.x, ...batch.y]);
  m.dispose();
});
