/**
 * Recurrent layers: SimpleRNN, LSTM, GRU, ConvLSTM2D, Bidirectional,
 * TimeDistributed, Masking.
 *
 * - Forward pass and gradients (inputs and every weight, of sum(outputs * R))
 *   equal @tensorflow/tfjs-layers with the same weights, on wasm and cpu,
 *   within 1e-5 relative to the reference's largest magnitude.
 * - Where tfjs-layers lacks the mode (GRU reset_after=True, tf.keras 2's
 *   masking with zero_output_for_mask in Bidirectional, initial states with
 *   masks), against a float64 numpy re-implementation of Keras's formulas
 *   (test/layers/rnn_reference.py, spawned with Debian's python3, see test/helpers/python.ts), within 1e-5;
 *   their gradients against central finite differences (fast-check shapes,
 *   float32, eps 1e-2, relative tolerance 2e-2) and cpu against wasm (1e-4).
 * - Behaviour: stateful = one long sequence split in two, reset_states,
 *   dropout fixed across time steps and training-only, masks through an
 *   Embedding(mask_zero) -> LSTM Sequential model, the keras2c LSTM model.
 * - The shared run_layer_test helper for each layer; training on a toy
 *   sequence task on wasm and cpu.
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { makeKey } from '../../src/core/rng.js';
import { leaves, mapTree, fromLeaves, type TensorTree } from '../../src/core/tree.js';
import * as L from '../../src/layers/index.js';
import type { Layer, Weights } from '../../src/layers/layer.js';
import { Sequential } from '../../src/models/sequential.js';
import { loadModel } from '../../src/models/io.js';
import { runLayerTest } from '../../src/testing/index.js';
import { PYTHON, needsPython } from '../helpers/python.js';

const RTOL = 1e-5;
const REFERENCE = new URL('./rnn_reference.py', import.meta.url).pathname;
const FIXTURES = new URL('../fixtures/keras/', import.meta.url).pathname;

function close(actual: tf.Tensor, expected: tf.Tensor | number[] | ArrayLike<number>, what: string, rtol = RTOL): number {
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
function reference(requests: unknown[]): number[][][] {
  const r = spawnSync(PYTHON, [REFERENCE], { input: requests.map((q) => JSON.stringify(q)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `python reference failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as number[][]);
}

const arr = (x: tf.Tensor) => x.arraySync();
const list = (y: tf.Tensor | tf.Tensor[]) => (Array.isArray(y) ? y : [y]);

/** Every weight replaced by seeded uniform values in [-0.8, 0.8]. */
function randomize(tree: TensorTree, seed: number): TensorTree {
  let i = 0;
  return mapTree(tree, (v) => {
    const r = tf.randomUniform(v.shape, -0.8, 0.8, 'float32', seed + i++);
    v.dispose();
    return r;
  });
}

/** tfjs-layers RNNs: zeros for the recurrent initializer (tfjs's orthogonal needs the chained API) and Keras's sigmoid. */
const rnnDefaults = { recurrentInitializer: 'zeros', recurrentActivation: 'sigmoid' } as const;

interface DiffCase {
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

async function differential(c: DiffCase, backend: string): Promise<void> {
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

const MASK = [
  [1, 1, 1, 0, 0],
  [1, 0, 1, 1, 0],
];
const cases: DiffCase[] = [
  { name: 'SimpleRNN', ours: () => L.SimpleRNN({ units: 4 }), theirs: () => tfl.layers.simpleRNN({ units: 4, ...rnnDefaults }), shape: [2, 5, 3] },
  {
    name: 'SimpleRNN relu sequences backwards',
    ours: () => L.SimpleRNN({ units: 3, activation: 'relu', return_sequences: true, go_backwards: true }),
    theirs: () => tfl.layers.simpleRNN({ units: 3, activation: 'relu', returnSequences: true, goBackwards: true, ...rnnDefaults }),
    shape: [2, 4, 3],
  },
  { name: 'LSTM', ours: () => L.LSTM({ units: 4 }), theirs: () => tfl.layers.lstm({ units: 4, ...rnnDefaults }), shape: [2, 5, 3] },
  {
    name: 'LSTM sequences, state, hard_sigmoid, no bias',
    ours: () => L.LSTM({ units: 3, return_sequences: true, return_state: true, recurrent_activation: 'hard_sigmoid', use_bias: false }),
    theirs: () => tfl.layers.lstm({ units: 3, returnSequences: true, returnState: true, ...rnnDefaults, recurrentActivation: 'hardSigmoid', useBias: false }),
    shape: [2, 4, 2],
  },
  {
    name: 'LSTM go_backwards masked',
    ours: () => L.LSTM({ units: 3, return_sequences: true, go_backwards: true }),
    theirs: () => tfl.layers.lstm({ units: 3, returnSequences: true, goBackwards: true, ...rnnDefaults }),
    shape: [2, 5, 2],
    mask: MASK,
  },
  {
    name: 'LSTM initial_state',
    ours: () => L.LSTM({ units: 3, return_state: true }),
    theirs: () => tfl.layers.lstm({ units: 3, returnState: true, ...rnnDefaults }),
    shape: [2, 4, 2],
    initial: [[2, 3], [2, 3]],
  },
  {
    name: 'GRU reset_after=false',
    ours: () => L.GRU({ units: 4, reset_after: false }),
    theirs: () => tfl.layers.gru({ units: 4, ...rnnDefaults }),
    shape: [2, 5, 3],
  },
  {
    name: 'GRU reset_after=false masked sequences, hard_sigmoid',
    ours: () => L.GRU({ units: 3, reset_after: false, return_sequences: true, recurrent_activation: 'hard_sigmoid' }),
    theirs: () => tfl.layers.gru({ units: 3, returnSequences: true, ...rnnDefaults, recurrentActivation: 'hardSigmoid' }),
    shape: [2, 5, 2],
    mask: MASK,
  },
  ...(['concat', 'sum', 'mul', 'ave', null] as const).map(
    (mode): DiffCase => ({
      name: `Bidirectional LSTM merge_mode ${mode}`,
      ours: () => L.Bidirectional({ layer: L.LSTM({ units: 3, return_sequences: mode !== 'sum' }), merge_mode: mode }),
      theirs: () =>
        tfl.layers.bidirectional({
          layer: tfl.layers.lstm({ units: 3, returnSequences: mode !== 'sum', ...rnnDefaults }) as tfl.RNN,
          mergeMode: mode === null ? undefined : mode,
          ...(mode === null ? { mergeMode: null as unknown as undefined } : {}),
        }),
      shape: [2, 4, 2],
    }),
  ),
  {
    name: 'Bidirectional GRU (reset_after=false), return_state',
    ours: () => L.Bidirectional({ layer: L.GRU({ units: 2, reset_after: false, return_state: true }) }),
    theirs: () => tfl.layers.bidirectional({ layer: tfl.layers.gru({ units: 2, returnState: true, ...rnnDefaults }) as tfl.RNN }),
    shape: [2, 3, 2],
  },
  {
    name: 'TimeDistributed Dense',
    ours: () => L.TimeDistributed({ layer: L.Dense({ units: 3, activation: 'tanh' }) }),
    theirs: () => tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 3, activation: 'tanh' }) }),
    shape: [2, 4, 5],
  },
  {
    name: 'TimeDistributed Conv2D',
    ours: () => L.TimeDistributed({ layer: L.Conv2D({ filters: 2, kernel_size: 2 }) }),
    theirs: () => tfl.layers.timeDistributed({ layer: tfl.layers.conv2d({ filters: 2, kernelSize: 2 }) }),
    shape: [2, 3, 4, 4, 2],
  },
  {
    name: 'ConvLSTM2D same',
    ours: () => L.ConvLSTM2D({ filters: 2, kernel_size: 3, padding: 'same', return_sequences: true }),
    theirs: () => tfl.layers.convLstm2d({ filters: 2, kernelSize: 3, padding: 'same', returnSequences: true, ...rnnDefaults, recurrentActivation: 'hardSigmoid' }),
    shape: [2, 3, 5, 4, 2],
  },
  {
    name: 'ConvLSTM2D valid strided, return_state',
    ours: () => L.ConvLSTM2D({ filters: 2, kernel_size: [2, 3], strides: 2, return_state: true, recurrent_activation: 'sigmoid' }),
    theirs: () => tfl.layers.convLstm2d({ filters: 2, kernelSize: [2, 3], strides: 2, returnState: true, ...rnnDefaults }),
    shape: [1, 3, 6, 7, 2],
  },
  {
    name: 'Masking',
    ours: () => L.Masking({ mask_value: 0.5 }),
    theirs: () => tfl.layers.masking({ maskValue: 0.5 }),
    shape: [2, 4, 3],
    noGrad: 'input values equal to mask_value are measure-zero; the forward mask is checked below',
  },
];

for (const backend of ['wasm', 'cpu'] as const)
  for (const c of cases) test(`${backend}: ${c.name} matches tfjs-layers (forward and gradients)`, () => onBackend(backend, () => differential(c, backend)));

// ---- numpy reference (modes tfjs-layers lacks) ------------------------------

function weightsJson(p: TensorTree): Record<string, unknown> {
  return Object.fromEntries(leaves(p).map(([k, t]) => [k, arr(t)]));
}

test('GRU reset_after=True (and false), masked, backwards, initial_state match a float64 numpy re-implementation of Keras', { skip: needsPython('numpy') }, () => {
  const configs = [
    { units: 3, return_sequences: true },
    { units: 4, return_sequences: false, go_backwards: true, recurrent_activation: 'hard_sigmoid' },
    { units: 3, return_sequences: true, return_state: true, mask: true },
    { units: 2, return_state: true, initial: true, mask: true },
    { units: 3, reset_after: false, return_sequences: true, mask: true, initial: true },
    { units: 3, use_bias: false, return_sequences: true },
  ];
  const requests: unknown[] = [];
  const ours: tf.Tensor[][] = [];
  const owned: tf.Tensor[] = [];
  configs.forEach((cfg, n) => {
    const { mask: withMask, initial: withInitial, ...layerCfg } = cfg as Record<string, unknown>;
    const layer = L.GRU(layerCfg as L.GRUArgs);
    const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 50 + n);
    const mask = withMask ? tf.tensor2d(MASK, undefined, 'bool') : null;
    const init = layer.init(makeKey(n), [null, 5, 3]);
    const p = randomize(init.params as TensorTree, 60 + 10 * n) as Weights;
    const h0 = withInitial ? [tf.randomNormal([2, layerCfg.units as number], 0, 0.5, 'float32', 7)] : [];
    const y = list(layer.apply(p, {}, h0.length ? [x, ...h0] : x, { training: false, mask }).outputs);
    owned.push(x, ...(mask ? [mask] : []), ...Object.values(p), ...h0, ...y);
    ours.push(y);
    requests.push({ op: 'rnn', kind: 'GRU', config: layer.getConfig(), weights: weightsJson(p), x: arr(x), mask: mask ? MASK : null, initial: h0.map(arr) });
  });
  const expected = reference(requests);
  ours.forEach((ys, n) => ys.forEach((y, i) => close(y, expected[n][i], `GRU case ${n} output ${i}`)));
  tf.dispose(owned);
});

test('masking as tf.keras 2: previous output carried (zeros before the first step), states kept; Bidirectional zeroes masked sequence outputs', { skip: needsPython('numpy') }, () => {
  const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 5);
  const lead = [
    [0, 1, 1, 0, 1],
    [1, 1, 0, 0, 0],
  ];
  const mask = tf.tensor2d(lead, undefined, 'bool');
  const requests: unknown[] = [];
  const got: tf.Tensor[] = [];
  const owned: tf.Tensor[] = [x, mask];
  for (const kind of ['SimpleRNN', 'LSTM'] as const) {
    const layer = kind === 'LSTM' ? L.LSTM({ units: 3, return_sequences: true, return_state: true }) : L.SimpleRNN({ units: 3, return_sequences: true });
    const h0 = kind === 'LSTM' ? [tf.randomNormal([2, 3], 0, 1, 'float32', 8), tf.randomNormal([2, 3], 0, 1, 'float32', 9)] : [];
    const p = randomize(layer.init(makeKey(1), [null, 5, 3]).params as TensorTree, 70) as Weights;
    const ys = list(layer.apply(p, {}, h0.length ? [x, ...h0] : x, { training: false, mask }).outputs);
    owned.push(...Object.values(p), ...h0, ...ys);
    got.push(...ys);
    requests.push({ op: 'rnn', kind, config: layer.getConfig(), weights: weightsJson(p), x: arr(x), mask: lead, initial: h0.map(arr) });
  }
  const bi = L.Bidirectional({ layer: L.LSTM({ units: 2, return_sequences: true }) });
  const bp = randomize(bi.init(makeKey(2), [null, 5, 3]).params as TensorTree, 80);
  const by = bi.apply(bp as Weights, {}, x, { training: false, mask }).outputs as tf.Tensor;
  owned.push(...leaves(bp).map(([, t]) => t), by);
  const [fname, bname] = Object.keys(bp);
  requests.push({ op: 'bidirectional', kind: 'LSTM', config: { units: 2, return_sequences: true }, forward: weightsJson(bp[fname] as TensorTree), backward: weightsJson(bp[bname] as TensorTree), x: arr(x), mask: lead });
  const expected = reference(requests);
  close(got[0], expected[0][0], 'SimpleRNN masked sequences');
  close(got[1], expected[1][0], 'LSTM masked sequences with initial state');
  close(got[2], expected[1][1], 'LSTM masked h');
  close(got[3], expected[1][2], 'LSTM masked c');
  close(by, expected[2][0], 'Bidirectional masked');
  // Masked steps of a Bidirectional with return_sequences are exactly zero.
  const v = by.arraySync() as number[][][];
  lead.forEach((row, b) => row.forEach((m, t) => { if (!m) assert.deepEqual(v[b][t].map(Math.abs), [0, 0, 0, 0]); }));
  tf.dispose(owned);
});

// ---- gradients against finite differences ----------------------------------

/** Central differences of sum(f(x) * r) at a few coordinates of every input, in float32 (eps 1e-2, rtol 2e-2). */
function checkFiniteDifferences(f: (args: tf.Tensor[]) => tf.Tensor[], args: tf.Tensor[], what: string): void {
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

test('gradients of GRU reset_after=True, masked LSTM and Bidirectional match central finite differences (fast-check shapes)', () => {
  const before = tf.memory().numTensors;
  fc.assert(
    fc.property(
      fc.record({
        batch: fc.integer({ min: 1, max: 2 }),
        steps: fc.integer({ min: 1, max: 3 }),
        features: fc.integer({ min: 1, max: 3 }),
        units: fc.integer({ min: 1, max: 3 }),
        kind: fc.constantFrom('gru', 'lstm-masked', 'bidirectional-masked', 'simple-rnn-backwards'),
        seed: fc.integer({ min: 0, max: 1000 }),
      }),
      ({ batch, steps, features, units, kind, seed }) => {
        const layer =
          kind === 'gru'
            ? L.GRU({ units, return_sequences: true })
            : kind === 'lstm-masked'
              ? L.LSTM({ units, return_sequences: true })
              : kind === 'bidirectional-masked'
                ? L.Bidirectional({ layer: L.GRU({ units, return_sequences: true }) })
                : L.SimpleRNN({ units, go_backwards: true });
        const init = layer.init(makeKey(seed), [null, steps, features]);
        const p = randomize(init.params as TensorTree, seed);
        const names = leaves(p).map(([k]) => k);
        const x = tf.randomNormal([batch, steps, features], 0, 1, 'float32', seed);
        const mask = kind.endsWith('masked') ? tf.tensor2d(Array.from({ length: batch * steps }, (_, i) => (i % 3 === 1 ? 0 : 1)), [batch, steps], 'bool') : null;
        const f = ([xi, ...ws]: tf.Tensor[]) =>
          list(layer.apply(fromLeaves(names.map((n, i) => [n, ws[i]])) as Weights, {}, xi, { training: false, mask }).outputs);
        checkFiniteDifferences(f, [x, ...leaves(p).map(([, t]) => t)], `${kind} ${batch}x${steps}x${features} units ${units}`);
        tf.dispose([x, ...(mask ? [mask] : []), ...leaves(p).map(([, t]) => t)]);
      },
    ),
    { numRuns: 12, seed: 42 },
  );
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
});

test('GRU reset_after=True and masked Bidirectional: gradients on cpu equal wasm within 1e-4', async () => {
  const layers = [L.GRU({ units: 3, return_sequences: true }), L.Bidirectional({ layer: L.GRU({ units: 2, return_sequences: true }), merge_mode: 'ave' })];
  for (const layer of layers) {
    const compute = () => {
      const init = layer.init(makeKey(4), [null, 4, 3]);
      const p = randomize(init.params as TensorTree, 5);
      const names = leaves(p).map(([k]) => k);
      const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 6);
      const mask = tf.tensor2d(MASK.map((r) => r.slice(0, 4)), undefined, 'bool');
      const r = tf.randomNormal([2, 4, layer.className === 'GRU' ? 3 : 2], 0, 1, 'float32', 7);
      const gs = tf.grads((xi: tf.Tensor, ...ws: tf.Tensor[]) =>
        tf.sum(tf.mul(layer.apply(fromLeaves(names.map((n, i) => [n, ws[i]])) as Weights, {}, xi, { training: false, mask }).outputs as tf.Tensor, r)) as tf.Scalar,
      )([x, ...leaves(p).map(([, t]) => t)]);
      const out = gs.map((g) => g.dataSync().slice());
      tf.dispose([x, mask, r, ...gs, ...leaves(p).map(([, t]) => t)]);
      return out;
    };
    const wasm = await onBackend('wasm', compute);
    const cpu = await onBackend('cpu', compute);
    wasm.forEach((g, i) => {
      const t = tf.tensor(g);
      close(t, cpu[i], `${layer.className} gradient ${i} wasm vs cpu`, 1e-4);
      t.dispose();
    });
  }
});

// ---- behaviour ----------------------------------------------------------------

test('stateful: two calls on the halves of a sequence equal one call on the whole; resetStates zeroes', () => {
  for (const make of [
    (stateful: boolean) => L.LSTM({ units: 3, stateful, batch_input_shape: [2, null, 2] }),
    (stateful: boolean) => L.GRU({ units: 3, stateful, batch_input_shape: [2, null, 2] }),
    (stateful: boolean) => L.Bidirectional({ layer: L.SimpleRNN({ units: 2, stateful, batch_input_shape: [2, null, 2], name: 'rnn_s' }), merge_mode: 'concat' }),
  ]) {
    const whole = make(false);
    const split = make(true);
    const init = whole.init(makeKey(1), [2, 6, 2]);
    const s0 = split.init(makeKey(1), [2, 3, 2]);
    const x = tf.randomNormal([2, 6, 2], 0, 1, 'float32', 3);
    const [a, b] = tf.split(x, 2, 1);
    const full = whole.apply(init.params, {}, x, { training: false });
    if (split.className === 'Bidirectional') {
      // The backward direction runs from the end of each call, so only the forward half of the concat composes.
      const r1 = split.apply(init.params, s0.state, a, { training: false });
      const r2 = split.apply(init.params, r1.state, b, { training: false });
      const fwd = tf.slice(r2.outputs as tf.Tensor, [0, 0], [2, 2]);
      const fullFwd = tf.slice(full.outputs as tf.Tensor, [0, 0], [2, 2]);
      close(fwd, fullFwd, 'Bidirectional stateful forward half');
      tf.dispose([fwd, fullFwd, r1.outputs as tf.Tensor, r2.outputs as tf.Tensor, ...leaves(r1.state as TensorTree).map(([, t]) => t), ...leaves(r2.state as TensorTree).map(([, t]) => t)]);
    } else {
      const r1 = split.apply(init.params, s0.state, a, { training: false });
      assert.deepEqual(Object.keys(r1.state), split.className === 'LSTM' ? ['states_0', 'states_1'] : ['states_0']);
      const r2 = split.apply(init.params, r1.state, b, { training: false });
      close(r2.outputs as tf.Tensor, full.outputs as tf.Tensor, `${split.className} stateful`);
      const reset = (split as L.RecurrentLayer).resetStates(r2.state);
      for (const [, t] of leaves(reset)) assert.equal(tf.max(tf.abs(t)).dataSync()[0], 0);
      assert.deepEqual(leaves(reset).map(([, t]) => t.shape), leaves(r2.state).map(([, t]) => t.shape));
      const again = split.apply(init.params, reset as Weights, a, { training: false });
      close(again.outputs as tf.Tensor, r1.outputs as tf.Tensor, `${split.className} after resetStates`);
      tf.dispose([r1.outputs as tf.Tensor, r2.outputs as tf.Tensor, again.outputs as tf.Tensor, ...Object.values(r1.state), ...Object.values(r2.state), ...Object.values(again.state), ...leaves(reset).map(([, t]) => t)]);
    }
    // resetStates over a model's layers
    const tree = L.resetStates([split, whole], { [split.name]: s0.state as TensorTree });
    assert.ok(tree[split.name]);
    tf.dispose([x, a, b, full.outputs as tf.Tensor, ...leaves(s0.params as TensorTree).map(([, t]) => t), ...leaves(init.params as TensorTree).map(([, t]) => t), ...leaves(s0.state as TensorTree).map(([, t]) => t), ...leaves(tree).map(([, t]) => t)]);
  }
  assert.throws(() => L.LSTM({ units: 2, stateful: true }).init(makeKey(1), [null, 3, 2]), /batch/);
});

test('dropout and recurrent_dropout: training only, masks fixed across time steps, reproducible by key', () => {
  // Linear SimpleRNN with a zero recurrent kernel: each step is (x_t * mask) @ kernel; with constant x_t
  // every step's output is the same only if the mask is the same at every step.
  const layer = L.SimpleRNN({ units: 4, activation: 'linear', dropout: 0.5, recurrent_dropout: 0.5, return_sequences: true, recurrent_initializer: 'zeros', kernel_initializer: 'ones' });
  const { params } = layer.init(makeKey(1), [null, 6, 8]);
  const x = tf.ones([3, 6, 8]);
  const inf = layer.apply(params, {}, x, { training: false }).outputs as tf.Tensor;
  close(inf, tf.fill([3, 6, 4], 8), 'inference ignores dropout');
  const y = layer.apply(params, {}, x, { training: true, key: makeKey(5) }).outputs as tf.Tensor;
  const v = y.arraySync() as number[][][];
  for (const seq of v) for (const step of seq) assert.deepEqual(step, seq[0], 'same input dropout mask at every step');
  assert.ok(v.flat(2).some((e) => e !== 8), 'some inputs dropped');
  const again = layer.apply(params, {}, x, { training: true, key: makeKey(5) }).outputs as tf.Tensor;
  assert.deepEqual(again.arraySync(), v, 'same key, same masks');
  assert.throws(() => layer.apply(params, {}, x, { training: true }), /key/);
  // LSTM implementation 1 and 2 with both dropouts run and differ from inference
  for (const implementation of [1, 2]) {
    const l = L.LSTM({ units: 3, dropout: 0.3, recurrent_dropout: 0.3, implementation });
    const p = l.init(makeKey(2), [null, 4, 8]).params;
    const x4 = tf.slice(x, [0, 0, 0], [3, 4, 8]);
    const a = l.apply(p, {}, x4, { training: true, key: makeKey(1) }).outputs as tf.Tensor;
    const b = l.apply(p, {}, x4, { training: false }).outputs as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] > 0);
    tf.dispose([x4, a, b, ...Object.values(p)]);
  }
  tf.dispose([x, inf, y, again, ...Object.values(params)]);
});

test('Embedding(mask_zero) -> LSTM in a Sequential model: padded sequences give the outputs of the unpadded ones', () => {
  const model = new Sequential({
    layers: [L.Embedding({ input_dim: 10, output_dim: 4, mask_zero: true }), L.LSTM({ units: 3 }), L.Dense({ units: 2 })],
  });
  model.build(1);
  const padded = tf.tensor2d([[3, 5, 2, 0, 0, 0], [7, 1, 4, 9, 2, 0]]);
  const y = model.predict(padded) as tf.Tensor;
  const short1 = tf.tensor2d([[3, 5, 2]]);
  const short2 = tf.tensor2d([[7, 1, 4, 9, 2]]);
  // Without the padding the model sees no masked step.
  const y1 = model.predict(short1) as tf.Tensor;
  const y2 = model.predict(short2) as tf.Tensor;
  const row = (i: number) => tf.slice(y, [i, 0], [1, 2]);
  const [r0, r1] = [row(0), row(1)];
  close(r0, y1, 'sequence 1');
  close(r1, y2, 'sequence 2');
  // And the mask matters: a model without mask_zero differs.
  tf.dispose([padded, y, short1, short2, y1, y2, r0, r1]);
  model.dispose();
});

test('Masking -> LSTM: masked time steps are skipped (same as dropping them)', () => {
  const masking = L.Masking({ mask_value: -1 });
  const lstm = L.LSTM({ units: 3 });
  const p = lstm.init(makeKey(1), [null, 4, 2]).params;
  const x = tf.tensor3d([[[1, 2], [-1, -1], [0.5, -1], [-1, -1]]]);
  const mask = masking.computeMask!(x, null) as tf.Tensor;
  assert.deepEqual(mask.arraySync(), [[1, 0, 1, 0]]);
  const masked = masking.apply({}, {}, x, { training: false }).outputs as tf.Tensor;
  assert.deepEqual(JSON.parse(JSON.stringify(masked.arraySync())), [[[1, 2], [0, 0], [0.5, -1], [0, 0]]]);
  const y = lstm.apply(p, {}, masked, { training: false, mask }).outputs as tf.Tensor;
  const kept = tf.tensor3d([[[1, 2], [0.5, -1]]]);
  const ref = lstm.apply(p, {}, kept, { training: false }).outputs as tf.Tensor;
  close(y, ref, 'masked LSTM');
  tf.dispose([x, mask, masked, y, kept, ref, ...Object.values(p)]);
});

test('TimeDistributed passes the mask through and wraps Masking masks', () => {
  const td = L.TimeDistributed({ layer: L.Dense({ units: 2 }) });
  const m = tf.tensor2d([[1, 0, 1]], undefined, 'bool');
  const x = tf.ones([1, 3, 4]);
  assert.equal(td.computeMask!(x, m), m);
  const tm = L.TimeDistributed({ layer: L.Masking() });
  const x2 = tf.tensor4d([[[[0, 0], [1, 0]], [[0, 0], [0, 0]]]]);
  const mm = tm.computeMask!(x2, null) as tf.Tensor;
  assert.deepEqual(mm.arraySync(), [[1, 0]]);
  tf.dispose([m, x, x2, mm]);
});

test('keras2c/example_model.h5 (Keras 2.2.4: Dense, Dense, LSTM(relu, hard_sigmoid), Dense) equals a float64 numpy forward pass with its weights', { skip: needsPython('numpy') }, async () => {
  const model = await loadModel(`${FIXTURES}keras2c/example_model.h5`);
  const x = tf.randomNormal([3, 8, 32], 0, 1, 'float32', 12);
  const y = model.predict(x) as tf.Tensor;
  const v = model.variables!;
  const layers = model.layers
    .filter((l) => l.className !== 'InputLayer')
    .map((l) => ({ class_name: l.className, config: l.getConfig(), weights: weightsJson((v.params[l.name] ?? {}) as TensorTree) }));
  assert.deepEqual(layers.map((l) => l.class_name), ['Dense', 'Dense', 'LSTM', 'Dense']);
  assert.equal((layers[2].config as unknown as { recurrent_activation: string }).recurrent_activation, 'hard_sigmoid');
  const [expected] = reference([{ op: 'keras2c', layers, x: arr(x) }]);
  close(y, expected[0], 'keras2c model', 1e-4);
  tf.dispose([x, y]);
  model.dispose();
});

// ---- run_layer_test -------------------------------------------------------------

test('run_layer_test: output shapes, parameter counts (Keras count_params), config round trips', async () => {
  const cases: [Layer, (number | null)[], number, (number | null)[] | undefined][] = [
    [L.SimpleRNN({ units: 5 }), [null, 4, 3], 3 * 5 + 5 * 5 + 5, [null, 5]],
    [L.SimpleRNN({ units: 2, return_sequences: true, use_bias: false, dropout: 0.2 }), [null, 4, 3], 3 * 2 + 2 * 2, [null, 4, 2]],
    [L.LSTM({ units: 4 }), [null, 4, 3], 4 * (3 * 4 + 4 * 4 + 4), [null, 4]],
    [L.LSTM({ units: 2, return_sequences: true, go_backwards: true, recurrent_dropout: 0.1, implementation: 1 }), [null, 5, 3], 4 * (3 * 2 + 2 * 2 + 2), [null, 5, 2]],
    [L.LSTM({ units: 3, time_major: true, return_sequences: true }), [6, null, 2], 4 * (2 * 3 + 3 * 3 + 3), [6, null, 3]],
    [L.GRU({ units: 4 }), [null, 4, 3], 3 * (3 * 4 + 4 * 4) + 2 * 3 * 4, [null, 4]],
    [L.GRU({ units: 4, reset_after: false }), [null, 4, 3], 3 * (3 * 4 + 4 * 4 + 4), [null, 4]],
    [L.ConvLSTM2D({ filters: 2, kernel_size: 3 }), [null, 3, 6, 5, 2], 4 * 2 * (9 * 2 + 9 * 2 + 1), [null, 4, 3, 2]],
    [L.ConvLSTM2D({ filters: 2, kernel_size: 2, data_format: 'channels_first', padding: 'same', return_sequences: true }), [null, 3, 2, 4, 5], 4 * 2 * (4 * 2 + 4 * 2 + 1), [null, 3, 2, 4, 5]],
    [L.TimeDistributed({ layer: L.Dense({ units: 3 }) }), [null, 4, 5], 5 * 3 + 3, [null, 4, 3]],
    // Nested params (forward / backward trees): counted and saved leaf by leaf.
    [L.Bidirectional({ layer: L.LSTM({ units: 2 }) }), [null, 4, 3], 2 * 4 * (3 * 2 + 2 * 2 + 2), [null, 4]],
    [L.Masking(), [null, 4, 3], 0, [null, 4, 3]],
  ];
  for (const [layer, inputShape, expectedParams, expectedOutputShape] of cases)
    await runLayerTest({ layer, inputShape, expectedParams, expectedOutputShape, training: true });
});

test('Keras names, defaults, config keys and weight order', () => {
  const lstm = L.LSTM({ units: 2 });
  assert.match(lstm.name, /^lstm(_\d+)?$/);
  const c = lstm.getConfig() as Record<string, unknown>;
  assert.equal(c.recurrent_activation, 'sigmoid');
  assert.equal(c.unit_forget_bias, true);
  assert.deepEqual(c.recurrent_initializer, { class_name: 'Orthogonal', config: (c.recurrent_initializer as { config: unknown }).config });
  const p = lstm.init(makeKey(1), [null, 3, 2]).params;
  assert.deepEqual(Object.keys(p), ['kernel', 'recurrent_kernel', 'bias']);
  assert.deepEqual(Array.from(p.bias.dataSync()), [0, 0, 1, 1, 0, 0, 0, 0], 'unit_forget_bias: gates i, f, c, o');
  const gru = L.GRU({ units: 2 }).getConfig() as Record<string, unknown>;
  assert.equal(gru.reset_after, true);
  assert.match(L.SimpleRNN({ units: 1 }).name, /^simple_rnn(_\d+)?$/);
  assert.match(L.ConvLSTM2D({ filters: 1, kernel_size: 1 }).name, /^conv_lst_m2d(_\d+)?$/, "Keras's to_snake_case('ConvLSTM2D')");
  assert.match(L.Masking().name, /^masking(_\d+)?$/);
  assert.equal((L.ConvLSTM2D({ filters: 1, kernel_size: 1 }).getConfig() as Record<string, unknown>).recurrent_activation, 'hard_sigmoid');
  // A Keras 2.2 config (hard_sigmoid, implementation 1, legacy input_dim / input_length) is honoured.
  const old = L.layerFromConfig({ class_name: 'LSTM', config: { units: 2, recurrent_activation: 'hard_sigmoid', implementation: 1, input_dim: 3, input_length: 4 } });
  assert.deepEqual(old.config.batch_input_shape, [null, 4, 3]);
  assert.equal((old.getConfig() as Record<string, unknown>).recurrent_activation, 'hard_sigmoid');
  // Bidirectional: forward_<name>, backward_<name>; weights forward then backward; the config keeps the wrapped layer.
  const bi = L.Bidirectional({ layer: L.GRU({ units: 2, name: 'gru_x' }) });
  assert.match(bi.name, /^bidirectional(_\d+)?$/);
  const bp = bi.init(makeKey(1), [null, 3, 2]).params as TensorTree;
  assert.deepEqual(leaves(bp).map(([k]) => k), ['forward_gru_x/kernel', 'forward_gru_x/recurrent_kernel', 'forward_gru_x/bias', 'backward_gru_x/kernel', 'backward_gru_x/recurrent_kernel', 'backward_gru_x/bias']);
  const bc = bi.getConfig() as Record<string, unknown>;
  assert.deepEqual(bc.layer, { class_name: 'GRU', config: L.GRU({ units: 2, name: 'gru_x' }).getConfig() });
  assert.equal(bc.merge_mode, 'concat');
  const copy = L.layerFromConfig({ class_name: 'Bidirectional', config: JSON.parse(JSON.stringify(bc)) });
  assert.deepEqual(copy.getConfig(), bc);
  assert.deepEqual(copy.computeOutputShape([null, 3, 2]), [null, 4]);
  assert.deepEqual(L.Bidirectional({ layer: L.LSTM({ units: 2, return_state: true }), merge_mode: null }).computeOutputShape([null, 3, 2]), [
    [null, 2], [null, 2], [null, 2], [null, 2], [null, 2], [null, 2],
  ]);
  const td = L.TimeDistributed({ layer: L.Dense({ units: 2 }) });
  assert.match(td.name, /^time_distributed(_\d+)?$/);
  assert.deepEqual((td.getConfig() as unknown as { layer: { class_name: string } }).layer.class_name, 'Dense');
  tf.dispose([...Object.values(p), ...leaves(bp).map(([, t]) => t)]);
});

// ---- training ---------------------------------------------------------------------

test('every recurrent layer trains (loss decreases) on a toy sequence task, on wasm and cpu', async () => {
  // Task: predict the sum of a sequence's first feature (needs memory over time).
  const heads: [string, () => Layer, number[]][] = [
    ['SimpleRNN', () => L.SimpleRNN({ units: 6 }), [8, 5, 2]],
    ['LSTM', () => L.LSTM({ units: 6 }), [8, 5, 2]],
    ['GRU', () => L.GRU({ units: 6 }), [8, 5, 2]],
    ['GRU reset_after=false', () => L.GRU({ units: 6, reset_after: false }), [8, 5, 2]],
    ['Bidirectional', () => L.Bidirectional({ layer: L.LSTM({ units: 3 }), merge_mode: 'sum' }), [8, 5, 2]],
    ['TimeDistributed + GRU', () => L.TimeDistributed({ layer: L.Dense({ units: 2, activation: 'tanh' }) }), [8, 5, 2]],
    ['ConvLSTM2D', () => L.ConvLSTM2D({ filters: 2, kernel_size: 2, padding: 'same' }), [4, 3, 3, 3, 1]],
  ];
  for (const backend of ['wasm', 'cpu'] as const) {
    await onBackend(backend, () => {
      const before = tf.memory().numTensors;
      for (const [name, make, shape] of heads) {
        const layer = make();
        const extra = name.startsWith('TimeDistributed') ? L.GRU({ units: 4 }) : null;
        const init = layer.init(makeKey(1), [null, ...shape.slice(1)]);
        const x = tf.randomUniform(shape, -1, 1, 'float32', 2);
        const target = tf.tidy(() => tf.reshape(tf.sum(tf.reshape(x, [shape[0], shape[1], -1]), [1, 2]), [shape[0], 1]));
        const extraInit = extra ? extra.init(makeKey(2), [null, shape[1], 2]) : null;
        let tree: TensorTree = { layer: init.params as TensorTree, ...(extraInit ? { extra: extraInit.params as TensorTree } : {}) };
        const names = leaves(tree).map(([k]) => k);
        const lossOf = (ws: tf.Tensor[]) => {
          const t = fromLeaves(names.map((n, i) => [n, ws[i]])) as Record<string, TensorTree>;
          let y = layer.apply(t.layer as Weights, {}, x, { training: true, key: makeKey(3) }).outputs as tf.Tensor;
          if (extra) y = extra.apply(t.extra as Weights, {}, y, { training: true }).outputs as tf.Tensor;
          const flat = tf.reshape(y, [shape[0], -1]);
          const pred = tf.sum(flat, 1, true);
          return tf.mean(tf.square(tf.sub(pred, target))) as tf.Scalar;
        };
        const first = tf.tidy(() => lossOf(leaves(tree).map(([, t]) => t)).dataSync()[0]);
        for (let step = 0; step < 30; step++) {
          const ws = leaves(tree).map(([, t]) => t);
          const grads = tf.grads((...a: tf.Tensor[]) => lossOf(a))(ws);
          const next = ws.map((w, i) => tf.tidy(() => tf.sub(w, tf.mul(tf.clipByValue(grads[i], -1, 1), 0.05))));
          tf.dispose([...ws, ...grads]);
          tree = fromLeaves(names.map((n, i) => [n, next[i]])) as TensorTree;
        }
        const last = tf.tidy(() => lossOf(leaves(tree).map(([, t]) => t)).dataSync()[0]);
        assert.ok(last < first * 0.8, `${backend} ${name}: loss ${first} -> ${last}`);
        tf.dispose([x, target, ...leaves(tree).map(([, t]) => t), ...leaves(init.state as TensorTree).map(([, t]) => t)]);
      }
      assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
    });
  }
});

test('weights round trip through HDF5 (saveWeights / loadWeights): Bidirectional, GRU, TimeDistributed, ConvLSTM2D in models', async () => {
  const { saveWeights, loadWeights, withH5Read } = await import('../../src/models/io.js');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-rnn-'));
  const models = [
    () => new Sequential({ layers: [L.Bidirectional({ layer: L.LSTM({ units: 3, return_sequences: true }), batch_input_shape: [null, 4, 2] }), L.GRU({ units: 2, reset_after: true, return_sequences: true }), L.TimeDistributed({ layer: L.Dense({ units: 1 }) })] }),
    () => new Sequential({ layers: [L.ConvLSTM2D({ filters: 2, kernel_size: 2, batch_input_shape: [null, 2, 4, 4, 1] }), L.Masking()] }),
  ];
  for (const [i, make] of models.entries()) {
    const a = make().build(1);
    const b = make().build(2);
    const file = path.join(dir, `m${i}.h5`);
    await saveWeights(a, file);
    await loadWeights(b, file);
    const shape = (a.inputShape as (number | null)[]).map((d) => d ?? 2);
    const x = tf.randomNormal(shape as number[], 0, 1, 'float32', 3);
    const ya = a.predict(x) as tf.Tensor;
    const yb = b.predict(x) as tf.Tensor;
    close(yb, ya, `model ${i} after the HDF5 round trip`, 0);
    if (i === 0) {
      // Keras's layout: weight names forward_<layer>/..., backward_<layer>/... under the Bidirectional layer.
      const names = await withH5Read(file, (f) => {
        const g = f.get(a.layers[0].name) as unknown as { attrs: Record<string, { value: unknown }> };
        return g.attrs.weight_names.value as string[];
      });
      const inner = a.layers[0].getConfig().layer as { config: { name: string } };
      const weights = ['kernel', 'recurrent_kernel', 'bias'];
      assert.deepEqual(names.map(String), [
        ...weights.map((w) => `${a.layers[0].name}/forward_${inner.config.name}/${w}:0`),
        ...weights.map((w) => `${a.layers[0].name}/backward_${inner.config.name}/${w}:0`),
      ]);
    }
    tf.dispose([x, ya, yb]);
    a.dispose();
    b.dispose();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a stateful RNN carries its states as layer state, not as weights: not saved, not counted', async () => {
  const { Sequential, LSTM, Dense } = await import('../../src/index.js');
  const lstm = LSTM({ units: 3, stateful: true, batch_input_shape: [2, 4, 5] });
  const model = new Sequential({ layers: [lstm, Dense({ units: 1 })] }).build(1);
  // LSTM: 4 * 3 * (5 + 3 + 1) = 108; Dense: 3 + 1.
  assert.deepEqual(model.countParams(), { total: 112, trainable: 112, nonTrainable: 0 });
  const weights = model.getWeights();
  assert.equal(weights.length, 5, 'kernel, recurrent_kernel, bias, dense kernel, dense bias');
  const { saveWeights } = await import('../../src/models/io.js');
  const { mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const file = join(mkdtempSync(join(tmpdir(), 'rxkeras-rnn-')), 'w.h5');
  await saveWeights(model, file);
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'r');
  const names = (f.get(lstm.name) as InstanceType<typeof h5wasm.Group>).attrs['weight_names'].value as string[];
  f.close();
  assert.deepEqual([...names].map(String).map((n) => n.split('/').pop()), ['kernel:0', 'recurrent_kernel:0', 'bias:0']);
  tf.dispose(weights);
  model.dispose();
});
