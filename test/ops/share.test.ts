import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../../src/ops/index.js';

for (const backend of ['wasm', 'cpu'] as const)
  test(`share on ${backend}: a second handle on the same values, no copy; the values live until both handles are disposed`, () =>
    onBackend(backend, () => {
      const before = ops.memory();
      const t = ops.tensor(Float32Array.from({ length: 1024 }, (_, i) => i), [32, 32]);
      const s = ops.share(t);
      assert.notEqual(s, t);
      assert.deepEqual(s.shape, [32, 32]);
      assert.equal(ops.memory().numDataBuffers - before.numDataBuffers, 1, 'one buffer for both handles');
      t.dispose();
      assert.equal(s.dataSync()[1023], 1023);
      assert.equal(ops.memory().numDataBuffers - before.numDataBuffers, 1);
      s.dispose();
      assert.equal(ops.memory().numDataBuffers, before.numDataBuffers);
      assert.equal(ops.memory().numTensors, before.numTensors);
    }));
