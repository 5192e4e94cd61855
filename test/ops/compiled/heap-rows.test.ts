/**
 * With compiled steps, training batches are gathered into the fused
 * update's heap: the rows must be those a gather on the eager backend
 * gives, a disposed batch's region must be taken again by the next one
 * (steady-state training allocates nothing), and what the heap cannot hold
 * (int32 rows) keeps the eager gather.
 */
import { backendReady } from '../../helpers/backend.js';
await backendReady;

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { COMPILED_BACKEND, compiledBackend, compiledStepsEnabled, enableCompiledSteps, heapRows } from '../../../src/ops/compiled/index.js';
import { takeRows } from '../../../src/training/data.js';
import type { WasmHeap } from '../../../src/ops/compiled/wasm-heap.js';

describe('heapRows', () => {
  it('gives the rows of an eager gather, in a heap region taken again after dispose', () => {
    const was = compiledStepsEnabled();
    enableCompiledSteps(true);
    const x = tf.randomUniform([10, 3, 2], -1, 1, 'float32', 7);
    const indices = Int32Array.from([9, 0, 4, 4, 7]);
    const expected = tf.gather(x, tf.tensor1d(indices, 'int32'));
    const heap = compiledBackend().heap() as WasmHeap;
    assert.notEqual(typeof heap, 'string', `the fused kernels are built: ${heap}`);
    const [rows] = takeRows([x], indices);
    try {
      assert.deepEqual(rows.shape, [5, 3, 2]);
      assert.equal(tf.engine().state.tensorInfo.get(rows.dataId)?.backend, compiledBackend());
      assert.deepEqual(Array.from(rows.dataSync()), Array.from(expected.dataSync()));
      rows.dispose();
      const size = heap.size;
      const again = heapRows(x, Int32Array.from([1, 2, 3, 5, 6]))!;
      assert.equal(heap.size, size, 'the disposed batch region is reused');
      assert.deepEqual(Array.from(again.dataSync()), Array.from(tf.gather(x, tf.tensor1d([1, 2, 3, 5, 6], 'int32')).dataSync()));
      again.dispose();
    } finally {
      enableCompiledSteps(was);
      tf.dispose([x, expected, rows]);
    }
  });

  it('leaves int32 rows and compiled steps turned off to the eager gather', () => {
    const labels = tf.tensor1d([5, 6, 7, 8], 'int32');
    const x = tf.ones([4, 2]);
    const was = compiledStepsEnabled();
    try {
      enableCompiledSteps(true);
      assert.equal(heapRows(labels, Int32Array.from([3, 1])), undefined);
      const [taken] = takeRows([labels], Int32Array.from([3, 1]));
      assert.deepEqual(Array.from(taken.dataSync()), [8, 6]);
      taken.dispose();
      enableCompiledSteps(false);
      assert.equal(heapRows(x, Int32Array.from([0])), undefined);
      assert.notEqual(tf.getBackend(), COMPILED_BACKEND);
    } finally {
      enableCompiledSteps(was);
      tf.dispose([labels, x]);
    }
  });
});
