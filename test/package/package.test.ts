import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

// The published entry points are the compiled dist/ (npm run build, run by `prepare`): plain Node loads them, no tsx.
test("'rxkeras' and 'rxkeras/streams' load in plain Node from the built package and train a model", () => {
  const script = `
    const rx = await import('rxkeras');
    const { fromTensors, batch } = await import('rxkeras/streams');
    await rx.initBackend({ quiet: true });
    const x = rx.ops.tensor2d([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const y = rx.ops.tensor2d([[0], [1], [1], [0]]);
    const model = new rx.Sequential({ layers: [rx.Dense({ units: 1, input_shape: [2] })] }).build(1);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const h = await model.fit(fromTensors(x, y).pipe(batch(2)), { epochs: 2, verbose: 0 });
    console.log(JSON.stringify({ epochs: h.history.loss.length, layers: model.layers.length }));
    process.exit(0);
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, RXKERAS_QUIET: '1' } });
  assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), { epochs: 2, layers: 1 });
});

test("'rxkeras/testing' loads in plain Node from the built package and runs a layer test", () => {
  const script = `
    const rx = await import('rxkeras');
    const { runLayerTest, expectNoLeaks, tensorData } = await import('rxkeras/testing');
    const fc = (await import('fast-check')).default;
    await rx.initBackend({ quiet: true });
    await runLayerTest({ layer: rx.Dense({ units: 3 }), inputShape: [null, 2], expectedParams: 9 });
    const [d] = fc.sample(tensorData({ shape: [2, 2] }), 1);
    console.log(JSON.stringify({ ok: true, values: d.values.length, leaks: expectNoLeaks(() => 0) }));
    process.exit(0);
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, RXKERAS_QUIET: '1' } });
  assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), { ok: true, values: 4, leaks: 0 });
});

test("'rxkeras/streams' fromHdf5Batches starts its reader thread from the built package (JavaScript, no tsx) and trains from it", async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;
  const file = join(mkdtempSync(join(tmpdir(), 'rxkeras-package-')), 'data.h5');
  const f = new h5wasm.File(file, 'w');
  f.create_dataset({ name: 'x', data: new Float32Array(40).map((_, k) => k % 2), shape: [20, 2] });
  f.create_dataset({ name: 'y', data: new Float32Array(20).map((_, k) => k % 3), shape: [20, 1] });
  f.close();
  const script = `
    const rx = await import('rxkeras');
    const { fromHdf5Batches } = await import('rxkeras/streams');
    await rx.initBackend({ quiet: true });
    const threads = [];
    const ds = await fromHdf5Batches(${JSON.stringify(file)}, { x: 'x', y: 'y', batchSize: 8, onReader: (t) => threads.push(t) });
    const model = new rx.Sequential({ layers: [rx.Dense({ units: 1, input_shape: [2] })] }).build(1);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const h = await model.fit(ds, { epochs: 2, verbose: 0 });
    const codes = await Promise.all(threads.map((t) => t.exited));
    console.log(JSON.stringify({ epochs: h.history.loss.length, codes }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, RXKERAS_QUIET: '1' }, timeout: 60_000 });
  assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), { epochs: 2, codes: [0, 0] });
});
