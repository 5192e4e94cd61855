import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedMemoryCollective, createSharedGroup } from '../../src/parallel/shared-memory-collective.js';
import { addKernel, kernelsOver } from '../../src/parallel/shared-sum.js';
import { fusedSlotNames, runFusedRule, type FusedRule } from '../../src/ops/compiled/fused-update.js';
import type { FusedKernels } from '../../src/ops/compiled/fused-kernels.js';

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

test('a reduce-scatter of 2 that leaves the gradients to the update: summed as the fused kernels read both slots, bit for bit the weights and slots of summing first', async () => {
  const n = 1000;
  const bounds = [0, 512, n];
  const leave = [[0, 500], [600, n]] as const;
  const rules: FusedRule[] = [
    { kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, alpha: 0.31, amsgrad: true },
    { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true },
    { kind: 'rmsprop', lr: 0.01, rho: 0.9, epsilon: 1e-7, centered: false, momentum: 0.5 },
  ];
  for (const rule of rules) {
    // Two groups alike: one sums into the result region first, the other leaves each member's part to the kernel.
    const run = async (leaving: boolean) => {
      const group = createSharedGroup(2, 1024, { updateRegions: true });
      const members = [0, 1].map((r) => new SharedMemoryCollective(group, r, { timeoutMs: 5000 }));
      const regions = members[0].inPlace!;
      const kernels = kernelsOver<FusedKernels>('fused-update/build/fused-update-shared.wasm', group.memory!);
      assert.ok(kernels, 'native/fused-update is built (npm run build)');
      regions.result.fill(NaN);
      regions.weights.set(values(5, n));
      regions.slots.forEach((s, k) => s.set(values(6 + k, n).map(Math.abs)));
      members.forEach((m, r) => m.slot(n).set(values(r, n)));
      const at = (region: Float32Array, offset: number) => region.byteOffset + offset * 4;
      await Promise.all(members.map(async (m, r) => {
        const [from, to] = leaving ? leave[r] : [bounds[r], bounds[r + 1]];
        const addends = leaving ? await m.reduceScatterLeaving(n, bounds, leave[r]) : (await m.reduceScatter(n, bounds), undefined);
        const slots = Object.fromEntries(fusedSlotNames(rule).map((name, k) => [name, at(regions.slots[k], from)]));
        const grads = addends ? ([at(addends[0], from), at(addends[1], from)] as const) : at(regions.result, from);
        runFusedRule(kernels!, rule, to - from, at(regions.weights, from), grads, slots, at(regions.weights, from), slots);
      }));
      return { weights: regions.weights.slice(0, n), slots: regions.slots.map((s) => s.slice(0, n)), result: regions.result.slice(0, n) };
    };
    const summed = await run(false);
    const left = await run(true);
    // The kernels' ranges: what each member leaves; the rest of its range (500-512, 512-600) is summed into the result.
    const updated = (a: Float32Array) => [...a.subarray(0, 500), ...a.subarray(600, n)];
    assert.deepEqual(updated(left.weights), updated(summed.weights), `${rule.kind}: weights`);
    left.slots.forEach((s, k) => assert.deepEqual(updated(s), updated(summed.slots[k]), `${rule.kind}: slot ${k}`));
    assert.deepEqual(left.result.subarray(500, 600), summed.result.subarray(500, 600), 'the rest of the ranges is summed');
    assert.ok(left.result.subarray(0, 500).every(Number.isNaN) && left.result.subarray(600, n).every(Number.isNaN), 'the ranges left are not written');
    const before = updated(values(5, n));
    const changed = updated(summed.weights).filter((w, i) => w !== before[i] && !Number.isNaN(w)).length;
    assert.ok(changed > 0.5 * before.length, `${rule.kind}: the update changed the weights (${changed} of ${before.length})`);
  }
});

test('a group of one leaves the gradients in its slot: the update reads them there, bit for bit the weights and slots of the reduce-scatter\'s copy', async () => {
  const n = 1000;
  const rule: FusedRule = { kind: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, alpha: 0.31, amsgrad: false };
  const run = async (leaving: boolean) => {
    const group = createSharedGroup(1, 1024, { updateRegions: true });
    const member = new SharedMemoryCollective(group, 0, { timeoutMs: 5000 });
    const regions = member.inPlace!;
    const kernels = kernelsOver<FusedKernels>('fused-update/build/fused-update-shared.wasm', group.memory!);
    assert.ok(kernels, 'native/fused-update is built (npm run build)');
    regions.result.fill(NaN);
    regions.weights.set(values(5, n));
    regions.slots.forEach((s, k) => s.set(values(6 + k, n).map(Math.abs)));
    member.slot(n).set(values(0, n));
    const at = (region: Float32Array) => region.byteOffset;
    const addends = leaving ? await member.reduceScatterLeaving(n, [0, n], [0, 900]) : (await member.reduceScatter(n, [0, n]), undefined);
    if (addends) assert.deepEqual(addends, [member.slot(1024)], 'the one addend is the member\'s slot');
    const slots = Object.fromEntries(fusedSlotNames(rule).map((name, k) => [name, at(regions.slots[k])]));
    runFusedRule(kernels!, rule, 900, at(regions.weights), addends ? at(addends[0]) : at(regions.result), slots, at(regions.weights), slots);
    return { weights: regions.weights.slice(0, n), slots: regions.slots.map((s) => s.slice(0, n)), result: regions.result.slice(0, n) };
  };
  const copied = await run(false);
  const left = await run(true);
  assert.deepEqual(left.weights, copied.weights, 'weights');
  left.slots.forEach((s, k) => assert.deepEqual(s, copied.slots[k], `slot ${k}`));
  assert.deepEqual(left.result.subarray(900), values(0, n).subarray(900), 'the rest of the range is in the result region (a copy)');
  assert.ok(left.result.subarray(0, 900).every(Number.isNaN), 'the range left is not written');
});

test('reduceScatterLeaving asks for a group of 1 or 2 and a part of the member\'s range', async () => {
  const three = createSharedGroup(3, 64);
  await assert.rejects(new SharedMemoryCollective(three, 0).reduceScatterLeaving(48, [0, 16, 32, 48], [0, 16]), /a group of 1 or 2 members/);
  const two = createSharedGroup(2, 64);
  const members = [0, 1].map((r) => new SharedMemoryCollective(two, r, { timeoutMs: 5000 }));
  const calls = members.map((m, r) => m.reduceScatterLeaving(48, [0, 16, 48], r === 0 ? [0, 20] : [16, 48]));
  await assert.rejects(calls[0], /a part of this member's range \[0, 16\)/);
  await calls[1];
});
