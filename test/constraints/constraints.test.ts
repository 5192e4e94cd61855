import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { backendReady } from '../helpers/backend.js';
import { getConstraint, serializeConstraint } from '../../src/constraints/index.js';

await backendReady;

const EPS = 1e-7;
const w = [[3, 0.1], [4, -0.2]]; // column norms (axis 0): 5 and sqrt(0.05)
const colNorms = [5, Math.sqrt(0.05)];
const scaleColumns = (f: (n: number) => number) => w.map((row) => row.map((v, j) => v * f(colNorms[j])));

function close(got: number[][], want: number[][]) {
  got.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - want[i][j]) < 1e-6, `[${i}][${j}] ${v} vs ${want[i][j]}`)));
}

test('MaxNorm, UnitNorm, MinMaxNorm and NonNeg project as Keras computes them (axis 0 by default)', () => {
  const t = tf.tensor2d(w);
  const apply = (spec: Parameters<typeof getConstraint>[0]) => {
    const out = getConstraint(spec)!.apply(t);
    const v = out.arraySync() as number[][];
    out.dispose();
    return v;
  };
  close(apply('max_norm'), scaleColumns((n) => Math.min(n, 2) / (n + EPS)));
  close(apply({ class_name: 'MaxNorm', config: { max_value: 1 } }), scaleColumns((n) => Math.min(n, 1) / (n + EPS)));
  close(apply('unit_norm'), scaleColumns((n) => 1 / (n + EPS)));
  close(apply({ class_name: 'MinMaxNorm', config: { min_value: 0.5, max_value: 1, rate: 0.5 } }), scaleColumns((n) => (0.5 * Math.min(Math.max(n, 0.5), 1) + 0.5 * n) / (n + EPS)));
  close(apply('non_neg'), [[3, 0.1], [4, 0]]);
  // axis 1: row norms
  const rows = w.map((r) => Math.hypot(...r));
  close(apply({ class_name: 'UnitNorm', config: { axis: 1 } }), w.map((r, i) => r.map((v) => v / (rows[i] + EPS))));
  assert.deepEqual(serializeConstraint(getConstraint('max_norm')), { class_name: 'MaxNorm', config: { max_value: 2, axis: 0 } });
  assert.equal(getConstraint(undefined), null);
  t.dispose();
});
