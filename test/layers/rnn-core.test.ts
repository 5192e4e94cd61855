/**
 * The recurrent machinery every recurrent layer shares (src/layers/rnn-
 * core.ts): gradients against central finite differences (fast-check
 * shapes), stateful layers and resetStates, dropout and recurrent dropout,
 * training on a toy sequence task on wasm and cpu, HDF5 weight round trips,
 * carried states that are not weights.
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import { makeKey } from '../../src/core/rng.js';
import { leaves, fromLeaves, type TensorTree } from '../../src/core/tree.js';
import * as L from '../../src/layers/index.js';
import type { Layer, Weights } from '../../src/layers/layer.js';
import { Sequential } from '../../src/models/sequential.js';
import { checkFiniteDifferences, close, list, randomize } from '../helpers/recurrent.js';

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
