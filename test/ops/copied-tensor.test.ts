import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copiedTensor } from '../../src/ops/index.js';

for (const backend of ['wasm', 'cpu'] as const)
  test(`copiedTensor on ${backend}: the tensor keeps the values it was made with when the (shared) array is rewritten`, () =>
    onBackend(backend, () => {
      const values = new Float32Array(new SharedArrayBuffer(16 * 4)).map((_, i) => i);
      const ints = Int32Array.from({ length: 4 }, (_, i) => 10 * i);
      const t = copiedTensor(values.subarray(4, 12), [2, 4], 'float32');
      const u = copiedTensor(ints, [4], 'int32');
      values.fill(-1);
      ints.fill(-1);
      assert.deepEqual(Array.from(t.dataSync()), [4, 5, 6, 7, 8, 9, 10, 11]);
      assert.deepEqual(Array.from(u.dataSync()), [0, 10, 20, 30]);
      assert.deepEqual(t.shape, [2, 4]);
      t.dispose();
      u.dispose();
    }));
