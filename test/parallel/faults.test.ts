import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tap } from 'rxjs';
import { backendReady } from '../helpers/backend.js';
import * as rx from '../../src/index.js';
import * as ops from '../../src/ops/index.js';
import { configureDevices, disposeDevices, getDevice } from '../../src/parallel/devices.js';
import { DeviceError } from '../../src/parallel/errors.js';
import { multiGpuModel } from '../../src/models/multi-gpu-model.js';
import { customObjects } from './fixtures/faulty.js';

await backendReady;
rx.registerCustomObjects(customObjects);
const setup = [new URL('./fixtures/faulty.ts', import.meta.url)];
after(() => disposeDevices());

/** 40 rows of 4 features; `marker` (if any) at row 22: step 2 of the first epoch (batch 8), in the second replica's half. */
function data(marker?: number) {
  const values = Array.from({ length: 160 }, (_, i) => Math.sin(i));
  if (marker !== undefined) values[22 * 4] = marker;
  const x = ops.tensor2d(values, [40, 4]);
  const y = ops.oneHot(ops.tensor1d(Array.from({ length: 40 }, (_, i) => i % 2), 'int32'), 2);
  return { x, y };
}

function model(stepsPerExecution = 1): rx.Model {
  const input = rx.Input({ shape: [4] });
  const passed = rx.Lambda({ function: 'faulty', name: 'faulty' }).call(input);
  const m = new rx.Model({ inputs: input, outputs: rx.Dense({ units: 2, activation: 'softmax' }).call(passed) });
  m.build(1);
  m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', stepsPerExecution });
  return m;
}

async function expectFailure(marker: number, reason: DeviceError['reason'], detail: RegExp, retry = false, stepsPerExecution = 1): Promise<void> {
  // Eager replicas: the Lambda looks for its marker in JavaScript, which a compiled step runs only when it traces the
  // graph (later steps replay it), so with compiled replicas no step would fail.
  await configureDevices({ cpuWorkers: 2, threadsPerWorker: 1, backend: 'wasm' });
  const { x, y } = data(marker);
  const clean = data();
  const m = model(stepsPerExecution);
  const p = multiGpuModel(m, { gpus: 2, setup });
  await p.evaluate(clean.x, clean.y); // the replicas start (and the template gets its optimizer state) before the count
  const before = ops.memory().numTensors;
  await assert.rejects(p.fit(x, y, { batchSize: 8, epochs: 2, shuffle: false, verbose: 0 }), (e: unknown) => {
    assert.ok(e instanceof DeviceError, String(e));
    assert.equal(e.device, '/cpu:2');
    assert.equal(e.step, 2);
    assert.equal(e.reason, reason);
    assert.match(e.message, detail);
    return true;
  });
  assert.equal(ops.memory().numTensors, before, 'the failed fit left no tensor behind');
  if (retry) {
    // The template keeps weights it can use; the devices start again for the next run.
    const again = multiGpuModel(m, { gpus: 2, setup });
    await again.fit(clean.x, clean.y, { batchSize: 8, epochs: 1, verbose: 0 });
    await again.close();
  }
  await p.close();
  ops.dispose([x, y, clean.x, clean.y]);
  m.dispose();
}

test('a replica that throws on one step: fit rejects with a DeviceError naming the device and the step; the next fit starts afresh', () =>
  expectFailure(999, 'threw', /device \/cpu:2 at step 2: RangeError: bad row: 999/, true));

test('a replica that throws on the third step of a call of four (stepsPerExecution 4): the DeviceError names the step that failed', () =>
  expectFailure(999, 'threw', /device \/cpu:2 at step 2: RangeError: bad row: 999/, false, 4));

test('a replica that runs out of memory: the DeviceError says so', () => expectFailure(777, 'out-of-memory', /allocation failed/i));

test('a worker thread that ends mid-epoch: the DeviceError says it died', () => expectFailure(555, 'died', /its worker died \(its thread exited with code 7\)/));

test('a child process killed mid-epoch: fit rejects within seconds, the last checkpoint stays intact, no tensor is left', async () => {
  await configureDevices({ cpuWorkers: 2, threadsPerWorker: 1, transport: 'process' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-kill-'));
  const file = path.join(dir, 'last.h5');
  try {
    const { x, y } = data();
    const m = model();
    const p = multiGpuModel(m, { gpus: 2, setup });
    await p.evaluate(x, y);
    const before = ops.memory().numTensors;
    let killedAt = 0;
    const kill = tap((e: rx.FitEvent) => {
      if (e.type === 'batchEnd' && e.epoch === 1 && e.batch === 1) {
        killedAt = Date.now();
        process.kill(getDevice('/cpu:1').pid!, 'SIGKILL');
      }
    });
    await assert.rejects(p.fit(x, y, { batchSize: 8, epochs: 3, shuffle: false, verbose: 0, callbacks: [rx.ModelCheckpoint(file), kill] }), (e: unknown) => {
      assert.ok(e instanceof DeviceError && e.device === '/cpu:1' && e.reason === 'died', String(e));
      assert.equal(e.step, 7); // 5 steps per epoch: the third step of the second epoch
      assert.match(e.message, /killed by SIGKILL/);
      return true;
    });
    // Far below the 120 s bound of a collective wait: the loss was seen, not waited out (generous for a loaded machine).
    assert.ok(Date.now() - killedAt < 20_000, `rejected ${Date.now() - killedAt} ms after the kill`);
    assert.equal(ops.memory().numTensors, before);
    const saved = await rx.loadModel(file);
    assert.equal(saved.compiled!.step, 5, 'the checkpoint of the first epoch');
    saved.dispose();
    await p.close();
    ops.dispose([x, y]);
    m.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await configureDevices({});
  }
});

test('dispose() while fit runs: fit rejects with a DeviceError (disposed), within seconds', async () => {
  await configureDevices({ cpuWorkers: 2, threadsPerWorker: 1 });
  const { x, y } = data();
  const m = model();
  const p = multiGpuModel(m, { gpus: 2, setup });
  const disposing = tap((e: rx.FitEvent) => {
    if (e.type === 'batchEnd' && e.batch === 2) void p.dispose();
  });
  const started = Date.now();
  await assert.rejects(p.fit(x, y, { batchSize: 8, epochs: 50, verbose: 0, callbacks: [disposing] }), (e: unknown) => e instanceof DeviceError && e.reason === 'disposed');
  assert.ok(Date.now() - started < 30_000);
  ops.dispose([x, y]);
  m.dispose();
});
