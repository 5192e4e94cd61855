import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedMemoryCollective, createSharedGroup } from '../../src/parallel/shared-memory-collective.js';
import { addKernel } from '../../src/parallel/shared-sum.js';

/** Values of mixed sign and magnitude, different per member. */
const values = (rank: number, n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.61 + rank) * 10 ** (((i + rank) % 7) - 3));

test('the shared-memory all-reduce sums with the SIMD kernel, bit for bit as float32 additions in rank order', async () => {
  for (const [size, n] of [[2, 1003], [3, 1003], [4, 35]] as const) {
    const group = createSharedGroup(size, 2048);
    assert.ok(group.memory, 'the group lives in a shared WebAssembly memory');
    assert.equal(group.data, (group.memory as { buffer: SharedArrayBuffer }).buffer);
    assert.ok(addKernel(group.memory), 'native/shared-sum is built (npm run build)');
    const members = Array.from({ length: size }, (_, r) => new SharedMemoryCollective(group, r, { timeoutMs: 5000 }));
    const buffers = members.map((_, r) => values(r, n));
    await Promise.all(members.map((m, r) => m.allReduce(buffers[r])));
    const expected = values(0, n);
    for (let r = 1; r < size; r++) {
      const v = values(r, n);
      for (let i = 0; i < n; i++) expected[i] = Math.fround(expected[i] + v[i]);
    }
    for (const b of buffers) assert.deepEqual(b, expected, `${size} members, ${n} floats`);
  }
});

test('a group without a WebAssembly memory (too large for 32 bits) sums in JavaScript to the same result', async () => {
  const group = createSharedGroup(2, 64);
  const plain = { ...group, memory: undefined };
  const run = async (g: typeof group) => {
    const members = [0, 1].map((r) => new SharedMemoryCollective(g, r, { timeoutMs: 5000 }));
    const buffers = [values(0, 50), values(1, 50)];
    await Promise.all(members.map((m, r) => m.allReduce(buffers[r])));
    return buffers[0];
  };
  assert.deepEqual(await run(plain), await run(group));
});
