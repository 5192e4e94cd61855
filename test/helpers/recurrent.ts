/**
 * Shared harness of the recurrent layer tests (test/layers/<layer>.test.ts):
 * the differential check against tfjs-layers (forward and gradients of
 * sum(outputs * R), inputs and every weight, within 1e-5 relative to the
 * reference's largest magnitude), the float64 numpy reference of Keras's
 * formulas (test/layers/rnn_reference.py, spawned with Debian's python3, see
 * test/helpers/python.ts), and
 * central finite differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { makeKey } from '../../src/core/rng.js';
import { leaves, mapTree, fromLeaves, type TensorTree } from '../../src/core/tree.js';
import type { Layer, Weights } from '../../src/layers/layer.js';
import { onBackend } from './backend.js';
import { PYTHON } from './python.js';

export const RTOL = 1e-5;
const REFERENCE = new URL('../layers/rnn_reference.py', import.meta.url).pathname;
export const FIXTURES = new URL('../fixtures/keras/', import.meta.url).pathname;

export function close(actual: tf.Tensor, expected: tf.Tensor | number[] | ArrayLike<number>, what: string, rtol = RTOL): number {
  const a = actual.dataSync();
  const e = expected instanceof tf.Tensor ? expected.dataSync() : Array.isArray(expected) ? (expected.flat(Infinity as 1) as number[]) : expected;
  if (expected instanceof tf.Tensor) assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  assert.equal(a.length, e.length, `${what}: size`);
  let scale = 0;
  for (let i = 0; i < e.length; i++) scale = Math.max(scale, Math.abs(e[i]));
  let worst = 0;
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]) / Math.max(scale, 1e-30));
  assert.ok(worst <= rtol, `${what}: max relative error ${worst.toExponential(2)} > ${rtol} (scale ${scale})`);
  return worst;
}

/** Runs the numpy reference on each request (one python process for all). */
export function reference(requests: unknown[]): number[][][] {
  const r = spawnSync(PYTHON, [REFERENCE], { input: requests.map((q) => JSON.stringify(q)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `python reference failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as number[][]);
}

export const arr = (x: tf.Tensor) => x.arraySync();
export const list = (y: tf.Tensor | tf.Tensor[]) => (Array.isArray(y) ? y : [y]);

/** Every weight replaced by seeded uniform values in [-0.8, 0.8]. */
export function randomize(tree: TensorTree, seed: number): TensorTree {
  let i = 0;
  return mapTree(tree, (v) => {
    const r = tf.randomUniform(v.shape, -0.8, 0.8, 'float32', seed + i++);
    v.dispose();
    return r;
  });
}

/** tfjs-layers RNNs: zeros for the recurrent initializer (tfjs's orthogonal needs the chained API) and Keras's sigmoid. */
/** tfjs-layers RNNs: zeros for the recurrent initializer (tfjs's orthogonal needs the chained API) and Keras's sigmoid. */
export const rnnDefaults = { recurrentInitializer: 'zeros', recurrentActivation: 'sigmoid' } as const;

export interface DiffCase {
  name: string;
  ours: () => Layer;
  theirs: () => tfl.layers.Layer;
  shape: number[];
  /** A (batch, time) 0/1 mask for both. */
  mask?: number[][];
  /** Shapes of initial states passed as extra inputs. */
  initial?: number[][];
  noGrad?: string;
}

export async function differential(c: DiffCase, backend: string): Promise<void> {
  const before = tf.memory().numTensors;
  const x = tf.randomNormal(c.shape, 0, 1, 'float32', 1);
  const mask = c.mask ? tf.tensor2d(c.mask, undefined, 'bool') : null;
  const initial = (c.initial ?? []).map((s, i) => tf.randomNormal(s, 0, 0.5, 'float32', 40 + i));
  const ours = c.ours();
  const init = ours.init(makeKey(2), [null, ...c.shape.slice(1)]);
  const params = randomize(init.params as TensorTree, 10);
  const theirs = c.theirs();
  const theirInput = x;
  const kwargs: Record<string, unknown> = { ...(mask ? { mask } : {}), ...(initial.length ? { initialState: initial } : {}) };
  tf.dispose(tf.tidy(() => theirs.apply(theirInput, kwargs) as tf.Tensor | tf.Tensor[]));
  const ourLeaves = leaves(params);
  assert.equal(theirs.weights.length, ourLeaves.length, `${c.name}: weight count vs tfjs-layers`);
  theirs.setWeights(ourLeaves.map(([, t]) => t));
  const run = (p: TensorTree, xi: tf.Tensor) =>
    list(ours.apply(p as Weights, init.state as Weights, initial.length ? [xi, ...initial] : xi, { training: false, mask }).outputs);
  const yOurs = run(params, x);
  const yTheirs = list(tf.tidy(() => theirs.apply(theirInput, kwargs) as tf.Tensor | tf.Tensor[]));
  assert.equal(yOurs.length, yTheirs.length, `${c.name}: number of outputs`);
  yOurs.forEach((y, i) => close(y, yTheirs[i], `${backend} ${c.name}: output ${i}`));

  if (!c.noGrad) {
    const rs = yTheirs.map((y, i) => tf.randomNormal(y.shape, 0, 1, 'float32', 4 + i));
    const names = ourLeaves.map(([k]) => k);
    const loss = (ys: tf.Tensor[]) => tf.addN(ys.map((y, i) => tf.sum(tf.mul(y, rs[i])))) as tf.Scalar;
    const ourGrads = tf.grads((xi: tf.Tensor, ...ws: tf.Tensor[]) => loss(run(fromLeaves(names.map((n, i) => [n, ws[i]])) as TensorTree, xi)))([
      x,
      ...ourLeaves.map(([, t]) => t),
    ]);
    const xv = tf.variable(x);
    const vars = theirs.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
    const { value, grads } = tf.variableGrads(
      () => loss(list(theirs.apply(xv, kwargs) as tf.Tensor | tf.Tensor[])),
      [xv, ...vars],
    );
    const ref = [grads[xv.name], ...vars.map((v) => grads[v.name])];
    ourGrads.forEach((g, i) => close(g, ref[i], `${backend} ${c.name}: gradient ${i === 0 ? 'd/dx' : `d/d${names[i - 1]}`}`));
    tf.dispose([...rs, xv, value, ...ourGrads, ...Object.values(grads)]);
  }
  tf.dispose([x, ...(mask ? [mask] : []), ...initial, ...yOurs, ...yTheirs, ...leaves(params).map(([, t]) => t), ...leaves(init.state as TensorTree).map(([, t]) => t)]);
  tf.dispose(theirs.weights.map((w) => (w as unknown as { read(): tf.Variable }).read()));
  assert.equal(tf.memory().numTensors, before, `${backend} ${c.name}: tensors leaked`);
}

export const MASK = [
  [1, 1, 1, 0, 0],
  [1, 0, 1, 1, 0],
];
/** Registers the differential test of each case, on wasm and on cpu. */
export function differentialTests(cases: DiffCase[]): void {
  for (const backend of ['wasm', 'cpu'] as const)
    for (const c of cases) test(`${backend}: ${c.name} matches tfjs-layers (forward and gradients)`, () => onBackend(backend, () => differential(c, backend)));
}

export function weightsJson(p: TensorTree): Record<string, unknown> {
  return Object.fromEntries(leaves(p).map(([k, t]) => [k, arr(t)]));
}

/** Central differences of sum(f(x) * r) at a few coordinates of every input, in float32 (eps 1e-2, rtol 2e-2). */
export function checkFiniteDifferences(f: (args: tf.Tensor[]) => tf.Tensor[], args: tf.Tensor[], what: string): void {
  const ys = f(args);
  const rs = ys.map((y, i) => tf.randomNormal(y.shape, 0, 1, 'float32', 90 + i));
  tf.dispose(ys);
  const loss = (a: tf.Tensor[]) => tf.tidy(() => tf.addN(f(a).map((y, i) => tf.sum(tf.mul(y, rs[i])))).dataSync()[0]);
  const grads = tf.grads((...a: tf.Tensor[]) => tf.addN(f(a).map((y, i) => tf.sum(tf.mul(y, rs[i])))) as tf.Scalar)(args);
  const eps = 1e-2;
  args.forEach((arg, ai) => {
    const g = grads[ai].dataSync();
    const base = arg.dataSync();
    let scale = 0;
    for (const v of g) scale = Math.max(scale, Math.abs(v));
    for (const idx of [0, Math.floor(base.length / 2), base.length - 1]) {
      const bump = (d: number) => {
        const copy = Float32Array.from(base);
        copy[idx] += d;
        const t = tf.tensor(copy, arg.shape);
        const out = loss(args.map((a, j) => (j === ai ? t : a)));
        t.dispose();
        return out;
      };
      const fd = (bump(eps) - bump(-eps)) / (2 * eps);
      const err = Math.abs(fd - g[idx]) / Math.max(scale, Math.abs(fd), 1e-3);
      assert.ok(err <= 2e-2, `${what}: arg ${ai}[${idx}] analytic ${g[idx]} vs finite difference ${fd} (relative ${err.toExponential(2)})`);
    }
  });
  tf.dispose([...rs, ...grads]);
}
