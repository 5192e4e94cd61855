import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const ROOT = new URL('../../../', import.meta.url).pathname;

/**
 * A child process initialises the backend as the engine does, takes the
 * gradients of a small network by hand-checkable formulas, and reports which
 * tfjs packages Node loaded: tfjs-layers must not be among them.
 */
const CHILD = `
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './src/ops/tfjs/backend.ts';
await initBackend({ quiet: true });
const x = tf.tensor2d([[1, -2], [3, 0.5]]);
const w = tf.tensor2d([[0.5, -1], [2, 0.25]]);
// d/dw sum(relu(x w)) = x^T 1[x w > 0]; d/dx sum(sigmoid(x) * x) = sigmoid(x) (1 + x (1 - sigmoid(x))).
const [gx, gw] = tf.grads((a, b) => tf.sum(tf.relu(tf.matMul(a, b))))([x, w]);
const gs = tf.grad((a) => tf.sum(tf.mul(tf.sigmoid(a), a)))(x);
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('@tensorflow'));
process.stdout.write(JSON.stringify({ gx: Array.from(gx.dataSync()), gw: Array.from(gw.dataSync()), gs: Array.from(gs.dataSync()), loaded }));
`;

test("gradients come from tfjs-core's own table, with tfjs-layers never loaded", () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', CHILD], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { gx: number[]; gw: number[]; gs: number[]; loaded: string[] };
  assert.ok(out.loaded.some((f) => f.includes('tfjs-core')), 'tfjs-core is loaded');
  assert.deepEqual(out.loaded.filter((f) => f.includes('tfjs-layers')), []);
  // x w = [[-3.5, -1.5], [2.5, -2.875]]: only (1, 0) is positive.
  assert.deepEqual(out.gw, [3, 0, 0.5, 0]); // x^T mask
  assert.deepEqual(out.gx, [0, 0, 0.5, 2]); // mask w^T
  const x = [1, -2, 3, 0.5];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  out.gs.forEach((g, i) => assert.ok(Math.abs(g - sig(x[i]) * (1 + x[i] * (1 - sig(x[i])))) < 1e-6, `${g} at ${i}`));
});
