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
