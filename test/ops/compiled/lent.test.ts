/**
 * Lent host arrays (ops.lentTensor, CompiledBackend.lend): with compiled
 * steps a graph reads the array itself, and the owner gets it back
 * (`release`) only once no graph or backend can read it any more.
 */
import { backendReady } from '../../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCompiledSteps } from '../../helpers/compiled.js';
import * as tf from '@tensorflow/tfjs-core';
import { lentTensor } from '../../../src/ops/index.js';
import { compiled, compiledBackend, computeInto, readInto } from '../../../src/ops/compiled/index.js';

const SIZE = 64; // above the size of baked constants: fed to the graph
const lent = () => {
  const data = Float32Array.from({ length: SIZE }, (_, i) => i);
  const state = { released: 0 };
  return { data, state, release: () => void state.released++ };
};

test('with compiled steps a lent array is the graph input itself, and is released once, when its tensor is disposed', withCompiledSteps(() => {
  const { data, state, release } = lent();
  const t = lentTensor(data, [8, 8], 'float32', release);
  assert.equal(compiledBackend().valueIfPresent(t.dataId)?.data, data, 'adopted without a copy');
  const doubled = compiled(() => tf.mul(t, tf.scalar(2)));
  assert.deepEqual(Array.from(doubled.dataSync()), Array.from(data, (v) => 2 * v));
  assert.equal(state.released, 0, 'not released while the tensor lives');
  t.dispose();
  assert.equal(state.released, 1);
  doubled.dispose();
}));

test('a lent view of a SharedArrayBuffer (a reader thread\'s slot) is a graph input as well', withCompiledSteps(() => {
  const data = new Float32Array(new SharedArrayBuffer(8 + SIZE * 4), 8, SIZE).map((_, i) => i);
  let released = 0;
  const t = lentTensor(data, [SIZE], 'float32', () => void released++);
  assert.equal(compiledBackend().valueIfPresent(t.dataId)?.data, data, 'adopted without a copy');
  const doubled = compiled(() => tf.mul(t, tf.scalar(2)));
  assert.deepEqual(Array.from(doubled.dataSync()), Array.from(data, (v) => 2 * v));
  t.dispose();
  assert.equal(released, 1);
  doubled.dispose();
}));

test('a lent tensor disposed during a trace that reads it is released after the graph ran, not before', withCompiledSteps(() => {
  const { data, state, release } = lent();
  const t = lentTensor(data, [SIZE], 'float32', release);
  let releasedInside = -1;
  const sum = compiled(() => {
    const s = tf.sum(t);
    t.dispose();
    releasedInside = state.released;
    return s;
  });
  assert.equal(releasedInside, 0, 'held while the graph is pending');
  assert.equal(state.released, 1, 'released once the graph ran');
  assert.equal(sum.dataSync()[0], (SIZE * (SIZE - 1)) / 2);
  sum.dispose();
}));

test('a lent tensor that an eager op uses moves to the eager backend as a copy, and is released then', withCompiledSteps(() => {
  const { data, state, release } = lent();
  const t = lentTensor(data, [SIZE], 'float32', release);
  const plusOne = tf.add(t, tf.scalar(1)); // on wasm: the data are moved there
  assert.equal(state.released, 1, 'released when moved');
  data.fill(-1); // the owner reuses its array
  assert.deepEqual(Array.from(t.dataSync()), Array.from({ length: SIZE }, (_, i) => i), 'the moved tensor kept its values');
  assert.equal(plusOne.dataSync()[3], 4);
  tf.dispose([t, plusOne]);
  assert.equal(state.released, 1, 'released once');
}));

test('without compiled steps a lent array is copied into an eager tensor and released at once', () => {
  const { data, state, release } = lent();
  const t = lentTensor(data, [SIZE], 'float32', release);
  assert.equal(state.released, 1);
  data.fill(-1);
  assert.equal(t.dataSync()[5], 5);
  t.dispose();
});

test('computeInto: the graph writes a pending value straight into the array given (a shared slot); reads copy it, and reading it into that array copies nothing', withCompiledSteps(() => {
  const { data } = lent();
  const x = lentTensor(data, [SIZE], 'float32', () => {});
  const slot = new Float32Array(new SharedArrayBuffer((SIZE + 4) * 4), 16, SIZE).fill(-1);
  const [doubled, plain] = compiled(() => {
    const out = [tf.mul(x, tf.scalar(2)), tf.add(x, tf.scalar(1))];
    computeInto([[out[0], slot]]);
    return out;
  });
  const expected = Array.from(data, (v) => 2 * v);
  assert.deepEqual(Array.from(slot), expected, 'written by the graph');
  assert.equal(compiledBackend().valueIfPresent(doubled.dataId)?.data, slot);
  assert.notEqual(compiledBackend().valueIfPresent(plain.dataId)?.data?.buffer, slot.buffer, 'only the value marked');
  const read = doubled.dataSync();
  assert.notEqual(read.buffer, slot.buffer, 'a read gets a copy: the slot is lent');
  slot[0] = 7;
  readInto(doubled, slot);
  assert.equal(slot[0], 7, 'reading a value into its own array is no copy');
  const other = new Float32Array(SIZE);
  readInto(doubled, other);
  assert.deepEqual(Array.from(other), [7, ...expected.slice(1)]);
  tf.dispose([x, doubled, plain]);
}));
