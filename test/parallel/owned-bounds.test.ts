import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownedBounds, piecesIn, type FusedLayout } from '../../src/parallel/fused-layout.js';

/** A fused layout of the given gradient sizes, then layer-state values. */
function layoutOf(grads: number[], state: number[] = []): FusedLayout {
  let offset = 0;
  const place = (size: number, i: number, kind: string) => {
    const e = { path: `${kind}${i}`, shape: [size], offset, size };
    offset += size;
    return e;
  };
  const g = grads.map((n, i) => place(n, i, 'g'));
  const s = state.map((n, i) => place(n, i, 's'));
  return { grads: g, state: s, length: offset };
}

test('a sharded update splits the gradients evenly by element, in 16-float vectors; the layer state goes to the last member', () => {
  // The bench CNN's values: one Dense kernel is 91% of the weights.
  const layout = layoutOf([288, 32, 18432, 64, 204800, 128, 1280, 10], [64, 64]);
  const grads = layout.length - 128;
  for (const size of [2, 3, 4]) {
    const bounds = ownedBounds(layout, size);
    assert.equal(bounds.length, size + 1);
    assert.deepEqual([bounds[0], bounds[size]], [0, layout.length]);
    for (let r = 1; r < size; r++) {
      assert.equal(bounds[r] % 16, 0);
      assert.ok(Math.abs(bounds[r] - (r * grads) / size) < 16, `${size} members: bound ${r} at ${bounds[r]}`);
    }
    // Every gradient element belongs to exactly one member's pieces.
    const covered = new Int32Array(layout.length);
    for (let r = 0; r < size; r++)
      for (const p of piecesIn(layout, bounds[r], bounds[r + 1])) for (let k = p.start; k < p.end; k++) covered[p.entry.offset + k]++;
    assert.ok(covered.subarray(0, grads).every((c) => c === 1));
    assert.ok(covered.subarray(grads).every((c) => c === 0), 'layer state is reduced, not updated');
  }
  // Two members: the big kernel is cut in two, each half a piece of its own.
  const [, mid] = ownedBounds(layout, 2);
  const first = piecesIn(layout, 0, mid);
  const second = piecesIn(layout, mid, layout.length);
  assert.deepEqual(first.at(-1), { entry: layout.grads[4], start: 0, end: mid - layout.grads[4].offset });
  assert.deepEqual(second[0], { entry: layout.grads[4], start: mid - layout.grads[4].offset, end: 204800 });
});

test('with whole values (clipnorm) a value goes to the member where it starts', () => {
  const layout = layoutOf([100, 100, 100, 100]);
  assert.deepEqual(ownedBounds(layout, 2, true), [0, 200, 400]);
  const bounds = ownedBounds(layoutOf([10, 1000, 10]), 2, true);
  assert.deepEqual(bounds, [0, 1010, 1020]);
  for (const p of piecesIn(layoutOf([10, 1000, 10]), bounds[0], bounds[1])) assert.deepEqual([p.start, p.end], [0, p.entry.size]);
});

test('fewer gradient elements than members x 16: the early members get none, the last all', () => {
  const layout = layoutOf([5, 3]);
  assert.deepEqual(ownedBounds(layout, 3), [0, 0, 0, 8]);
  assert.deepEqual(piecesIn(layout, 0, 0), []);
});
