import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../../src/ops/index.js';
import { readInto } from '../../src/ops/compiled/index.js';

test('readInto reads a wasm tensor from the backend memory itself (no dataSync copy); a cpu tensor through dataSync', async () => {
  for (const backend of ['wasm', 'cpu'] as const)
    await onBackend(backend, () => {
      const t = ops.tensor(Float32Array.from({ length: 12 }, (_, i) => i * 0.5), [3, 4]);
      let synced = 0;
      const dataSync = t.dataSync.bind(t);
      t.dataSync = (() => (synced++, dataSync())) as typeof t.dataSync;
      const out = new Float32Array(5);
      readInto(t, out, 4);
      assert.deepEqual(Array.from(out), [2, 2.5, 3, 3.5, 4]);
      assert.equal(synced, backend === 'wasm' ? 0 : 1, `dataSync calls on ${backend}`);
      t.dispose();
    });
});
