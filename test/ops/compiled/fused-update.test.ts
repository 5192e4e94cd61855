/**
 * The fused optimizer update keeps weights and slots in its WebAssembly
 * heap. Growing that heap detaches every view of it: a model trained
 * earlier must still read its own weights after another model's training
 * grew the heap, and the gradients written into the heap must be right
 * (its training equals eager training elsewhere in this folder).
 */
import { backendReady } from '../../helpers/backend.js';
await backendReady;

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as L from '../../../src/layers/index.js';
import { Sequential } from '../../../src/models/index.js';
import { compiledBackend, enableCompiledSteps, fallbackReason, fusedApply } from '../../../src/ops/compiled/index.js';
import type { WasmHeap } from '../../../src/ops/compiled/wasm-heap.js';

function trained(units: number, inputs: number): Sequential {
  const model = new Sequential({ layers: [L.Dense({ units, activation: 'relu', input_shape: [inputs] }), L.Dense({ units: 3, activation: 'softmax' })] });
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' }, 1);
  return model;
}

describe('fused update heap', () => {
  it("a model's weights survive the heap growing under another model's training", async () => {
    enableCompiledSteps(true);
    const x = tf.randomUniform([8, 6], 0, 1, 'float32', 1);
    const y = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3), 'float32');
    const small = trained(8, 6);
    const bigX = tf.randomUniform([8, 512], 0, 1, 'float32', 2);
    const big = trained(2048, 512);
    try {
      await small.fit(x, y, { batchSize: 4, epochs: 2, verbose: 0 });
      assert.equal(fallbackReason(small), undefined);
      const heap = compiledBackend().heap();
      assert.notEqual(typeof heap, 'string', `the fused kernels are built: ${heap}`);
      const before = small.getWeights().map((w) => Float32Array.from(w.dataSync()));
      const sizeBefore = (heap as { size: number }).size;
      await big.fit(bigX, y, { batchSize: 4, epochs: 1, verbose: 0 });
      assert.ok((heap as { size: number }).size > sizeBefore + 4 * 512 * 2048, 'the big model grew the heap');
      const after = small.getWeights().map((w) => Float32Array.from(w.dataSync()));
      assert.deepEqual(after, before);
    } finally {
      enableCompiledSteps(false);
      small.dispose();
      big.dispose();
      tf.dispose([x, y, bigX]);
    }
  });

  it('an updated weight held across a growth of the heap keeps its values', () => {
    const backend = compiledBackend();
    const heap = backend.heap() as WasmHeap;
    const onCompiled = (values: number[]) => tf.engine().makeTensor(Float32Array.from(values), [values.length], 'float32', backend);
    const [param, grad] = [onCompiled([1, 2, 3, 4, 5]), onCompiled([10, 20, 30, 40, 50])];
    const made = fusedApply({ kind: 'sgd', lr: 0.5, nesterov: false }, [{ param, grad, slots: {} }]);
    assert.ok(made, 'the fused kernels ran');
    const grown = heap.take(4 * 1024 * 1024);
    try {
      assert.deepEqual(Array.from(made[0].param.dataSync()), [-4, -8, -12, -16, -20]);
    } finally {
      heap.release(grown, 4 * 1024 * 1024);
      tf.dispose([param, grad, made[0].param]);
    }
  });
});
