/**
 * rxkeras's wasm Conv3DBackpropInputV2 / Conv3DBackpropFilterV2 (the stock
 * ones are wrong) against the cpu backend's: the gradients of
 * sum(conv3d(x, f) * r) for random shapes, strides and paddings drawn by
 * fast-check. Tolerance 1e-4 relative to the cpu gradient's largest magnitude.
 */
import { backendReady, onBackend } from '../../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';

async function grads(backend: 'cpu' | 'wasm', x: tf.Tensor, f: tf.Tensor, r: tf.Tensor, strides: number[], pad: 'same' | 'valid'): Promise<number[][]> {
  return onBackend(backend, () =>
    tf.tidy(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, strides as [number, number, number], pad), r)))([x, f]),
    ).map((g) => {
      const v = Array.from(g.dataSync());
      g.dispose();
      return v;
    }),
  );
}

test('wasm conv3d gradients equal the cpu ones', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        extra: fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
        cin: fc.integer({ min: 1, max: 3 }),
        cout: fc.integer({ min: 1, max: 3 }),
        pad: fc.constantFrom('same' as const, 'valid' as const),
      }),
      async (c) => {
        const before = tf.memory().numTensors;
        const x = tf.randomNormal([2, ...c.k.map((k, i) => k + c.extra[i]), c.cin], 0, 1, 'float32', 1);
        const f = tf.randomNormal([...c.k, c.cin, c.cout], 0, 1, 'float32', 2);
        const yShape = await onBackend('cpu', () => tf.tidy(() => tf.conv3d(x as tf.Tensor5D, f as tf.Tensor5D, c.s, c.pad).shape));
        const r = tf.randomNormal(yShape, 0, 1, 'float32', 3);
        const cpu = await grads('cpu', x, f, r, c.s, c.pad);
        const wasm = await grads('wasm', x, f, r, c.s, c.pad);
        cpu.forEach((g, j) => {
          const scale = Math.max(...g.map(Math.abs), 1e-30);
          const err = Math.max(...g.map((v, i) => Math.abs(v - wasm[j][i]))) / scale;
          assert.ok(err <= 1e-4, `${j === 0 ? 'dx' : 'dfilter'} ${JSON.stringify(c)}: relative error ${err.toExponential(2)}`);
        });
        tf.dispose([x, f, r]);
        assert.equal(tf.memory().numTensors, before);
      },
    ),
    { numRuns: 30, seed: 7 },
  );
});
