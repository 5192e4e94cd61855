/**
 * The generic RNN layer over cells (src/layers/rnn.ts):
 *
 * - RNN(SimpleRNNCell / LSTMCell / GRUCell with reset_after true and false)
 *   equals SimpleRNN / LSTM / GRU with the same weights within 1e-6
 *   (return_sequences, return_state, go_backwards, masks, initial_state);
 * - stacked cells equal the layers chained (return_sequences on the first)
 *   within 1e-5, states flat cell by cell (return_state and initial_state);
 * - stacked LSTM cells equal tfjs-layers' tfl.layers.rnn({ cell: [lstmCell, lstmCell] })
 *   with the same weights within 1e-5, on wasm and cpu (tfjs returns the
 *   stack's states in reverse cell order, Keras 2.2's; ours are tf.keras 2's);
 * - tf.keras 2's config layout (cell as { class_name, config }, a stack as
 *   StackedRNNCells with config.cells) and weight names (rnn/lstm_cell/kernel:0,
 *   rnn/stacked_rnn_cells/lstm_cell_1/kernel:0) in an HDF5 file;
 * - each stacked cell's dropout (on its input) and recurrent dropout;
 * - run_layer_test for single and stacked cells.
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigDecodeError } from '../../src/core/errors.js';
import { makeKey } from '../../src/core/rng.js';
import { leaves, mapTree, type TensorTree } from '../../src/core/tree.js';
import * as L from '../../src/layers/index.js';
import type { Layer, Weights } from '../../src/layers/layer.js';
import { saveWeights } from '../../src/models/index.js';
import { withH5Read, readStringListAttr, getGroup } from '../../src/core/hdf5.js';
import { Model } from '../../src/models/model.js';
import { runLayerTest } from '../../src/testing/index.js';

const list = (y: tf.Tensor | tf.Tensor[]) => (Array.isArray(y) ? y : [y]);
type TflCells = Parameters<typeof tfl.layers.rnn>[0]['cell'];

function maxRel(a: tf.Tensor, e: tf.Tensor): number {
  assert.deepEqual(a.shape, e.shape);
  const ad = a.dataSync();
  const ed = e.dataSync();
  let scale = 1e-30;
  for (const v of ed) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < ed.length; i++) worst = Math.max(worst, Math.abs(ad[i] - ed[i]) / scale);
  return worst;
}
function close(a: tf.Tensor, e: tf.Tensor, tol: number, what: string): void {
  const w = maxRel(a, e);
  assert.ok(w <= tol, `${what}: max relative error ${w.toExponential(2)} > ${tol}`);
}

/** Every weight replaced by seeded uniform values in [-0.8, 0.8]. */
function randomize(tree: TensorTree, seed: number): TensorTree {
  let i = 0;
  return mapTree(tree, (v) => {
    const r = tf.randomUniform(v.shape, -0.8, 0.8, 'float32', seed + i++);
    v.dispose();
    return r;
  });
}

const free = (...trees: TensorTree[]) => tf.dispose(trees.flatMap((t) => leaves(t).map(([, v]) => v)));

interface SingleCase {
  name: string;
  cell: () => L.RnnCell;
  layer: (extra: Record<string, unknown>) => Layer;
  states: number;
}

const singles: SingleCase[] = [
  { name: 'SimpleRNNCell', cell: () => L.SimpleRNNCell({ units: 4 }), layer: (e) => L.SimpleRNN({ units: 4, ...e }), states: 1 },
  { name: 'LSTMCell', cell: () => L.LSTMCell({ units: 4 }), layer: (e) => L.LSTM({ units: 4, ...e }), states: 2 },
  { name: 'GRUCell reset_after', cell: () => L.GRUCell({ units: 4 }), layer: (e) => L.GRU({ units: 4, ...e }), states: 1 },
  { name: 'GRUCell reset_after=false', cell: () => L.GRUCell({ units: 4, reset_after: false }), layer: (e) => L.GRU({ units: 4, reset_after: false, ...e }), states: 1 },
];

const modes: Record<string, unknown>[] = [
  {},
  { return_sequences: true, return_state: true },
  { go_backwards: true, return_sequences: true },
  { return_state: true, time_major: true },
];

test('RNN(SimpleRNNCell | LSTMCell | GRUCell) equals SimpleRNN | LSTM | GRU with the same weights within 1e-6 (modes, masks, initial_state)', () => {
  const before = tf.memory().numTensors;
  const x = tf.randomNormal([3, 5, 2], 0, 1, 'float32', 1);
  const mask = tf.tensor2d([[1, 1, 1, 1, 1], [1, 1, 0, 1, 0], [1, 0, 0, 0, 0]], undefined, 'bool');
  for (const c of singles) {
    for (const mode of modes) {
      for (const masked of [false, true]) {
        if (masked && mode.time_major) continue;
        const xi = mode.time_major ? tf.transpose(x, [1, 0, 2]) : x;
        const inShape = [null, ...xi.shape.slice(1)];
        const cell = c.cell();
        const rnn = L.RNN({ cell, ...mode });
        const ref = c.layer(mode);
        const init = ref.init(makeKey(1), inShape);
        const p = randomize(init.params as TensorTree, 20) as Weights;
        const initial = masked ? Array.from({ length: c.states }, (_, i) => tf.randomNormal([3, 4], 0, 0.5, 'float32', 30 + i)) : [];
        const input = initial.length ? [xi, ...initial] : xi;
        const opts = { training: false, mask: masked ? mask : undefined };
        const ours = list(rnn.apply({ [cell.name]: p } as unknown as Weights, {}, input, opts).outputs);
        const theirs = list(ref.apply(p, {}, input, opts).outputs);
        assert.equal(ours.length, theirs.length);
        ours.forEach((y, i) => close(y, theirs[i], 1e-6, `${c.name} ${JSON.stringify(mode)} masked=${masked}: output ${i}`));
        tf.dispose([...ours, ...theirs, ...initial, ...(xi === x ? [] : [xi])]);
        free(p);
      }
    }
  }
  tf.dispose([x, mask]);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
});

test('stacked cells equal the layers chained (return_sequences on the first) within 1e-5; states flat cell by cell', () => {
  const before = tf.memory().numTensors;
  const x = tf.randomNormal([3, 6, 2], 0, 1, 'float32', 2);
  const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1], [1, 1, 0, 1, 1, 0], [1, 1, 1, 0, 0, 0]], undefined, 'bool');
  const stacks: [string, () => L.RnnCell[], (e: Record<string, unknown>) => Layer[], number[]][] = [
    ['LSTMCell, GRUCell', () => [L.LSTMCell({ units: 4 }), L.GRUCell({ units: 3 })], (e) => [L.LSTM({ units: 4, ...e, return_sequences: true }), L.GRU({ units: 3, ...e })], [2, 1]],
    ['SimpleRNNCell, LSTMCell, GRUCell(reset_after=false)',
      () => [L.SimpleRNNCell({ units: 3 }), L.LSTMCell({ units: 2, unit_forget_bias: false }), L.GRUCell({ units: 4, reset_after: false })],
      (e) => [L.SimpleRNN({ units: 3, ...e, return_sequences: true }), L.LSTM({ units: 2, unit_forget_bias: false, ...e, return_sequences: true }), L.GRU({ units: 4, reset_after: false, ...e })],
      [1, 2, 1]],
  ];
  for (const [name, cellsOf, layersOf, counts] of stacks) {
    for (const mode of [{}, { return_sequences: true, return_state: true }, { go_backwards: true, return_state: true }]) {
      for (const withInitial of [false, true]) {
        const cells = cellsOf();
        const rnn = L.RNN({ cell: cells, ...mode });
        const stack = (rnn.getConfig() as unknown as { cell: { config: { name: string } } }).cell.config.name;
        // go_backwards: the first chained layer reads time reversed; the next ones read its (reversed-order) sequence forwards.
        const layers = layersOf({}).map((l, k) => {
          const cfg = { ...(l.getConfig() as Record<string, unknown>) };
          if (k === 0 && (mode as { go_backwards?: boolean }).go_backwards) cfg.go_backwards = true;
          if (k === counts.length - 1) Object.assign(cfg, { return_sequences: (mode as { return_sequences?: boolean }).return_sequences ?? false, return_state: true });
          else cfg.return_state = true;
          return L.layerFromConfig({ class_name: l.className, config: cfg });
        });
        let shape: (number | null)[] = [null, 6, 2];
        const params = layers.map((l, k) => {
          const init = l.init(makeKey(k), shape);
          const out = (init.outputShape as (number | null)[][])[0];
          shape = [null, 6, out[out.length - 1]];
          return randomize(init.params as TensorTree, 100 * (k + 1)) as Weights;
        });
        assert.equal(rnn.stateCount, counts.reduce((a, b) => a + b, 0), `${name}: stateCount`);
        // Initial states, flat cell by cell: the shapes of the return_state outputs.
        const stateShapes = (L.RNN({ cell: cells, return_state: true }).computeOutputShape([null, 6, 2]) as (number | null)[][]).slice(1);
        assert.deepEqual(stateShapes.length, rnn.stateCount);
        const initial = withInitial ? stateShapes.map((s, i) => tf.randomNormal([3, s[1] as number], 0, 0.5, 'float32', 50 + i)) : [];
        const p = { [stack]: Object.fromEntries(cells.map((c, k) => [c.name, params[k]])) } as unknown as Weights;
        const opts = { training: false, mask };
        const ours = list(rnn.apply(p, {}, initial.length ? [x, ...initial] : x, opts).outputs);
        // The chained layers, each with its own slice of the initial states.
        let y: tf.Tensor = x;
        const states: tf.Tensor[] = [];
        const made: tf.Tensor[] = [];
        let off = 0;
        layers.forEach((l, k) => {
          const init = initial.slice(off, off + counts[k]);
          off += counts[k];
          // After a go_backwards first layer, the sequence is in reverse time order: so is its mask
          // (reversed as float32: tfjs-backend-wasm 4.22's Reverse garbles bool tensors).
          const m = k > 0 && (mode as { go_backwards?: boolean }).go_backwards ? tf.tidy(() => tf.cast(tf.reverse(tf.cast(mask, 'float32'), 1), 'bool')) : mask;
          const out = list(l.apply(params[k], {}, init.length ? [y, ...init] : y, { training: false, mask: m }).outputs);
          if (m !== mask) m.dispose();
          made.push(...out);
          y = out[0];
          states.push(...out.slice(1));
        });
        const expected = (mode as { return_state?: boolean }).return_state ? [y, ...states] : [y];
        assert.equal(ours.length, expected.length, `${name}: number of outputs`);
        ours.forEach((o, i) => close(o, expected[i], 1e-5, `${name} ${JSON.stringify(mode)} initial=${withInitial}: output ${i}`));
        tf.dispose([...ours, ...made, ...initial]);
        params.forEach((q) => free(q));
      }
    }
  }
  tf.dispose([x, mask]);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
});

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: RNN([LSTMCell, LSTMCell]) and RNN(SimpleRNNCell) equal tfjs-layers' tfl.layers.rnn with the same weights within 1e-5`, () =>
    onBackend(backend, () => {
      const before = tf.memory().numTensors;
      const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 3);
      const cases: [string, () => L.RnnCell | L.RnnCell[], () => TflCells, number[]][] = [
        ['[LSTMCell(4), LSTMCell(3)]', () => [L.LSTMCell({ units: 4 }), L.LSTMCell({ units: 3 })],
          () => [tfl.layers.lstmCell({ units: 4, recurrentActivation: 'sigmoid', recurrentInitializer: 'zeros' }), tfl.layers.lstmCell({ units: 3, recurrentActivation: 'sigmoid', recurrentInitializer: 'zeros' })], [2, 2]],
        ['[SimpleRNNCell(3), LSTMCell(2), SimpleRNNCell(4)]', () => [L.SimpleRNNCell({ units: 3 }), L.LSTMCell({ units: 2 }), L.SimpleRNNCell({ units: 4 })],
          () => [tfl.layers.simpleRNNCell({ units: 3, recurrentInitializer: 'zeros' }), tfl.layers.lstmCell({ units: 2, recurrentActivation: 'sigmoid', recurrentInitializer: 'zeros' }), tfl.layers.simpleRNNCell({ units: 4, recurrentInitializer: 'zeros' })], [1, 2, 1]],
        ['SimpleRNNCell(5)', () => L.SimpleRNNCell({ units: 5 }), () => tfl.layers.simpleRNNCell({ units: 5, recurrentInitializer: 'zeros' }), [1]],
      ];
      for (const [name, ours, theirs, counts] of cases) {
        for (const mode of [{ return_sequences: true, return_state: true }, { go_backwards: true, return_state: true }]) {
          const rnn = L.RNN({ cell: ours(), ...mode });
          const init = rnn.init(makeKey(4), [null, 5, 3]);
          const p = randomize(init.params as TensorTree, 7);
          const ref = tfl.layers.rnn({ cell: theirs(), returnSequences: mode.return_sequences ?? false, returnState: true, goBackwards: mode.go_backwards ?? false });
          tf.dispose(tf.tidy(() => ref.apply(x) as tf.Tensor[]));
          const ws = leaves(p).map(([, v]) => v);
          assert.equal(ref.weights.length, ws.length, `${name}: weight count vs tfjs-layers`);
          ref.setWeights(ws);
          const y = list(rnn.apply(p as Weights, {}, x, { training: false }).outputs);
          const r = tf.tidy(() => ref.apply(x) as tf.Tensor[]);
          close(y[0], r[0], 1e-5, `${backend} ${name} ${JSON.stringify(mode)}: output`);
          // tfjs-layers returns a stack's states cell by cell in reverse (Keras 2.2); tf.keras 2 and rxkeras in order.
          const groups: tf.Tensor[][] = [];
          let off = 1;
          for (const n of [...counts].reverse()) {
            groups.unshift(r.slice(off, off + n));
            off += n;
          }
          const theirStates = groups.flat();
          assert.equal(y.length - 1, theirStates.length, `${name}: state count`);
          y.slice(1).forEach((s, i) => close(s, theirStates[i], 1e-5, `${backend} ${name}: state ${i}`));
          tf.dispose([...y, ...r]);
          free(p);
          ref.dispose();
        }
      }
      x.dispose();
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    }));
}

test("tf.keras 2's config layout: cell as { class_name, config }, a list as StackedRNNCells; cell keys and defaults; a Keras JSON config loads", () => {
  const single = L.RNN({ cell: L.LSTMCell({ units: 3, name: 'lstm_cell_x' }), return_sequences: true, name: 'r1' });
  const c = single.getConfig() as Record<string, unknown>;
  assert.deepEqual(
    Object.keys(c).sort(),
    ['cell', 'dtype', 'go_backwards', 'name', 'return_sequences', 'return_state', 'stateful', 'time_major', 'trainable', 'unroll'],
  );
  const cell = c.cell as { class_name: string; config: Record<string, unknown> };
  assert.equal(cell.class_name, 'LSTMCell');
  assert.deepEqual(Object.keys(cell.config).sort(), [
    'activation', 'bias_constraint', 'bias_initializer', 'bias_regularizer', 'dropout', 'dtype', 'implementation', 'kernel_constraint',
    'kernel_initializer', 'kernel_regularizer', 'name', 'recurrent_activation', 'recurrent_constraint', 'recurrent_dropout',
    'recurrent_initializer', 'recurrent_regularizer', 'trainable', 'unit_forget_bias', 'units', 'use_bias',
  ]);
  assert.equal(cell.config.name, 'lstm_cell_x');
  assert.equal(cell.config.implementation, 1, 'tf.keras 2 LSTMCell default');
  assert.equal(cell.config.recurrent_activation, 'sigmoid');
  assert.equal(cell.config.unit_forget_bias, true);
  const gru = (L.RNN({ cell: L.GRUCell({ units: 2 }) }).getConfig() as unknown as { cell: { config: Record<string, unknown> } }).cell.config;
  assert.equal(gru.reset_after, true);
  assert.equal(gru.implementation, 1);
  assert.match(gru.name as string, /^gru_cell(_\d+)?$/);
  const simple = (L.RNN({ cell: L.SimpleRNNCell({ units: 2 }) }).getConfig() as unknown as { cell: { config: Record<string, unknown> } }).cell.config;
  assert.match(simple.name as string, /^simple_rnn_cell(_\d+)?$/);
  assert.equal(simple.recurrent_activation, undefined);
  assert.match(L.RNN({ cell: L.SimpleRNNCell({ units: 1 }) }).name, /^rnn(_\d+)?$/);

  const stacked = L.RNN({ cell: [L.LSTMCell({ units: 3 }), L.LSTMCell({ units: 2 })] });
  const sc = (stacked.getConfig() as unknown as { cell: { class_name: string; config: { name: string; cells: { class_name: string; config: { name: string; units: number } }[] } } }).cell;
  assert.equal(sc.class_name, 'StackedRNNCells');
  assert.match(sc.config.name, /^stacked_rnn_cells(_\d+)?$/);
  assert.deepEqual(sc.config.cells.map((x) => [x.class_name, x.config.units]), [['LSTMCell', 3], ['LSTMCell', 2]]);
  assert.notEqual(sc.config.cells[0].config.name, sc.config.cells[1].config.name, 'distinct default cell names');

  // A config as tf.keras 2.x writes it (model.to_json) for RNN([LSTMCell(3), GRUCell(2)]).
  const keras = {
    name: 'rnn', trainable: true, dtype: 'float32', return_sequences: false, return_state: false, go_backwards: false, stateful: false, unroll: false, time_major: false,
    cell: {
      class_name: 'StackedRNNCells',
      config: {
        name: 'stacked_rnn_cells', trainable: true, dtype: 'float32',
        cells: [
          { class_name: 'LSTMCell', config: { name: 'lstm_cell', trainable: true, dtype: 'float32', units: 3, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true,
            kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, recurrent_initializer: { class_name: 'Orthogonal', config: { gain: 1.0, seed: null } },
            bias_initializer: { class_name: 'Zeros', config: {} }, unit_forget_bias: true, kernel_regularizer: null, recurrent_regularizer: null, bias_regularizer: null,
            kernel_constraint: null, recurrent_constraint: null, bias_constraint: null, dropout: 0.0, recurrent_dropout: 0.0, implementation: 1 } },
          { class_name: 'GRUCell', config: { name: 'gru_cell', trainable: true, dtype: 'float32', units: 2, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true,
            kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, recurrent_initializer: { class_name: 'Orthogonal', config: { gain: 1.0, seed: null } },
            bias_initializer: { class_name: 'Zeros', config: {} }, kernel_regularizer: null, recurrent_regularizer: null, bias_regularizer: null,
            kernel_constraint: null, recurrent_constraint: null, bias_constraint: null, dropout: 0.0, recurrent_dropout: 0.0, implementation: 1, reset_after: true } },
        ],
      },
    },
  };
  const loaded = L.layerFromConfig({ class_name: 'RNN', config: keras });
  assert.equal(loaded.className, 'RNN');
  assert.deepEqual(loaded.computeOutputShape([null, 5, 4]), [null, 2]);
  const again = loaded.getConfig() as unknown as { cell: { config: { cells: { config: Record<string, unknown> }[] } } };
  assert.deepEqual(again.cell.config.cells.map((x) => x.config.name), ['lstm_cell', 'gru_cell']);
  assert.equal((again.cell.config.cells[1].config as { reset_after: boolean }).reset_after, true);

  // Errors: a layer key in a cell, an unknown cell class, duplicate cell names.
  assert.throws(() => L.LSTMCell({ units: 2, return_sequences: true }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'return_sequences');
  assert.throws(() => L.RNN({ cell: { class_name: 'ConvLSTM2DCell', config: {} } }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'cell.class_name');
  assert.throws(() => L.RNN({ cell: [L.LSTMCell({ units: 2, name: 'a' }), L.GRUCell({ units: 2, name: 'a' })] }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'cells');
  assert.throws(() => L.RNN({ cell: 3 as never }), (e: unknown) => e instanceof ConfigDecodeError && e.path === 'cell');
});

test('weight names and order as tf.keras 2 saves them: rnn/lstm_cell/kernel:0, rnn/stacked_rnn_cells/<cell>/..., cell by cell', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-rnn-'));
  try {
    const x = L.Input({ batch_input_shape: [null, 4, 3] });
    const a = L.RNN({ cell: L.LSTMCell({ units: 2, name: 'lstm_cell' }), name: 'rnn', return_sequences: true }).call(x);
    const b = L.RNN({ cell: [L.GRUCell({ units: 2, name: 'gru_cell' }), L.LSTMCell({ units: 3, name: 'lstm_cell_1' })], name: 'rnn_1' }).call(a);
    const model = new Model({ inputs: x, outputs: b }).build(1);
    const file = path.join(dir, 'w.h5');
    await saveWeights(model, file);
    const names = await withH5Read(file, (f) => ({
      rnn: readStringListAttr(f, getGroup(f, f, 'rnn'), 'weight_names'),
      rnn1: readStringListAttr(f, getGroup(f, f, 'rnn_1'), 'weight_names'),
    }));
    assert.deepEqual(names.rnn, ['rnn/lstm_cell/kernel:0', 'rnn/lstm_cell/recurrent_kernel:0', 'rnn/lstm_cell/bias:0']);
    const stack = ((model.layers.find((l) => l.name === 'rnn_1')!.getConfig() as unknown as { cell: { config: { name: string } } }).cell.config.name);
    assert.deepEqual(names.rnn1, ['gru_cell/kernel', 'gru_cell/recurrent_kernel', 'gru_cell/bias', 'lstm_cell_1/kernel', 'lstm_cell_1/recurrent_kernel', 'lstm_cell_1/bias'].map((n) => `rnn_1/${stack}/${n}:0`));
    const shapes = model.getWeights().map((w) => {
      const s = w.shape;
      w.dispose();
      return s;
    });
    assert.deepEqual(shapes, [[3, 8], [2, 8], [8], [2, 6], [2, 6], [2, 6], [2, 12], [3, 12], [12]]);
    model.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("stacked cells: each cell's dropout on its own input and recurrent dropout; training only, reproducible by key", () => {
  const before = tf.memory().numTensors;
  const x = tf.randomNormal([4, 5, 3], 0, 1, 'float32', 9);
  const run = (cells: L.RnnCell[], training: boolean, key: number) => {
    const rnn = L.RNN({ cell: cells, return_sequences: true, name: 'r' });
    const init = rnn.init(makeKey(5), [null, 5, 3]);
    const y = rnn.apply(init.params, init.state, x, { training, key: makeKey(key) }).outputs as tf.Tensor;
    const data = y.dataSync().slice();
    y.dispose();
    free(init.params as TensorTree);
    return data;
  };
  const cellsWith = (second: Record<string, unknown>) => [L.LSTMCell({ units: 3, name: 'c0' }), L.GRUCell({ units: 2, name: 'c1', ...second })];
  const plain = run(cellsWith({}), true, 1);
  assert.deepEqual(run(cellsWith({}), false, 1), plain, 'no dropout: training changes nothing');
  for (const second of [{ dropout: 0.5 }, { recurrent_dropout: 0.5 }]) {
    const a = run(cellsWith(second), true, 1);
    assert.deepEqual(run(cellsWith(second), true, 1), a, `${JSON.stringify(second)}: same key, same masks`);
    assert.notDeepEqual(a, plain, `${JSON.stringify(second)} on the second cell changes the training output`);
    assert.notDeepEqual(run(cellsWith(second), true, 2), a, `${JSON.stringify(second)}: another key, other masks`);
    assert.deepEqual(run(cellsWith(second), false, 1), plain, `${JSON.stringify(second)}: inference ignores dropout`);
  }
  x.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
});

test('run_layer_test: RNN over a single cell and over stacked cells (shapes, parameter counts, JSON config and HDF5 weights round trips)', async () => {
  const lstm = (i: number, u: number) => 4 * (i * u + u * u + u);
  const cases: [Layer, (number | null)[], number, (number | null)[]][] = [
    [L.RNN({ cell: L.SimpleRNNCell({ units: 5 }) }), [null, 4, 3], 3 * 5 + 5 * 5 + 5, [null, 5]],
    [L.RNN({ cell: L.LSTMCell({ units: 4, dropout: 0.2 }), return_sequences: true }), [null, 4, 3], lstm(3, 4), [null, 4, 4]],
    [L.RNN({ cell: { class_name: 'GRUCell', config: { units: 3 } }, go_backwards: true }), [null, 4, 2], 3 * (2 * 3 + 3 * 3) + 2 * 3 * 3, [null, 3]],
    [L.RNN({ cell: [L.LSTMCell({ units: 4 }), L.LSTMCell({ units: 2, recurrent_dropout: 0.3 })], return_sequences: true }), [null, 5, 3], lstm(3, 4) + lstm(4, 2), [null, 5, 2]],
    [L.RNN({ cell: [L.SimpleRNNCell({ units: 3, dropout: 0.1 }), L.GRUCell({ units: 2, reset_after: false, dropout: 0.2 })] }), [null, 4, 3], 3 * 3 + 3 * 3 + 3 + 3 * (3 * 2 + 2 * 2 + 2), [null, 2]],
  ];
  for (const [layer, inputShape, expectedParams, expectedOutputShape] of cases)
    await runLayerTest({ layer, inputShape, expectedParams, expectedOutputShape, training: true });
});

test('Bidirectional wraps RNN(cells): forward_rnn / backward_rnn, same as Bidirectional(LSTM) with the same weights', () => {
  const before = tf.memory().numTensors;
  const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 12);
  const bi = L.Bidirectional({ layer: L.RNN({ cell: L.LSTMCell({ units: 2, name: 'lstm_cell' }), name: 'rnn', return_sequences: true }) });
  const ref = L.Bidirectional({ layer: L.LSTM({ units: 2, name: 'lstm', return_sequences: true }) });
  const init = ref.init(makeKey(1), [null, 4, 3]);
  const p = randomize(init.params as TensorTree, 3) as unknown as Record<string, Weights>;
  const ours = { forward_rnn: { lstm_cell: p.forward_lstm }, backward_rnn: { lstm_cell: p.backward_lstm } } as unknown as Weights;
  const y = bi.apply(ours, {}, x, { training: false }).outputs as tf.Tensor;
  const r = ref.apply(p as unknown as Weights, {}, x, { training: false }).outputs as tf.Tensor;
  close(y, r, 1e-6, 'Bidirectional(RNN(LSTMCell)) vs Bidirectional(LSTM)');
  tf.dispose([x, y, r]);
  free(p as unknown as TensorTree);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
});
