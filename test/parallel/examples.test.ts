import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test("the Keras FAQ's device-parallel example trains: a shared LSTM on two worker devices, small (EXAMPLE_SMALL=1)", () => {
  const script = new URL('../../examples/faq/device-parallelism.ts', import.meta.url).pathname;
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, EXAMPLE_SMALL: '1', RXKERAS_QUIET: '1' }, timeout: 120_000, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const m = /device parallelism \(\/cpu:1, \/cpu:2\): loss ([\d.]+) -> ([\d.]+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(Number(m[2]) < Number(m[1]), `the loss went down: ${m[0]}`);
});
