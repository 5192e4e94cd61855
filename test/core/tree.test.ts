import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';
import { backendReady } from '../helpers/backend.js';
import { ShapeMismatchError } from '../../src/core/errors.js';
import {
  assertSameStructure,
  cloneTree,
  disposeReplaced,
  disposeTree,
  fromLeaves,
  leaves,
  mapTensors,
  sameShape,
  tensors,
} from '../../src/core/tree.js';

await backendReady;

/** A nested value: tensors in arrays, records and Maps, with numbers, strings and nulls beside them. */
function sample() {
  const a = tf.scalar(1);
  const b = tf.tensor1d([2, 3]);
  const c = tf.zeros([2, 2]);
  return { a, b, c, value: { x: [a, { y: b, n: 3 }], m: new Map([['c', c]]), s: 'text', z: null } };
}

test('tensors walks arrays, plain records and Maps in order, and nothing else', () => {
  const { a, b, c, value } = sample();
  class Holder {
    constructor(readonly t: tf.Tensor) {}
  }
  const hidden = new Holder(a);
  assert.deepEqual(tensors(value), [a, b, c]);
  assert.deepEqual(tensors([value, hidden, a]), [a, b, c, a]); // class instances are leaves; repeats are listed
  assert.deepEqual(tensors(Object.assign(Object.create(null), { a })), [a]);
  tf.dispose([a, b, c]);
});

test('mapTensors and cloneTree keep the structure and every other leaf; a shared tensor is cloned once', () => {
  const { a, b, c, value } = sample();
  const shared = { p: a, q: [a, b] };
  const copy = cloneTree(shared);
  assert.equal(copy.p, copy.q[0]);
  assert.notEqual(copy.p, a);
  assert.deepEqual(Array.from(copy.q[1].dataSync()), [2, 3]);
  const mapped = mapTensors(value, (t) => tf.add(t, 1));
  assert.equal(mapped.s, 'text');
  assert.equal(mapped.z, null);
  assert.equal((mapped.x[1] as { n: number }).n, 3);
  assert.ok(mapped.m instanceof Map);
  assert.deepEqual(Array.from(mapped.m.get('c')!.dataSync()), [1, 1, 1, 1]);
  const before = tf.memory().numTensors;
  disposeTree([copy, mapped, copy]); // each tensor once, however often it is held
  assert.equal(tf.memory().numTensors, before - 2 - 3);
  tf.dispose([a, b, c]);
});

test('disposeReplaced frees what the new value no longer holds, and only that', () => {
  const { a, b, c, value } = sample();
  const next = { kept: b, fresh: tf.scalar(9) };
  disposeReplaced(value, next);
  assert.ok(a.isDisposed && c.isDisposed);
  assert.ok(!b.isDisposed && !next.fresh.isDisposed);
  disposeTree(next);
});

test('assertSameStructure names the first path that differs', () => {
  tf.tidy(() => checkStructures((...shape: number[]) => tf.zeros(shape)));
});

function checkStructures(t: (...shape: number[]) => tf.Tensor): void {
  const a = { dense: { kernel: t(2, 3), bias: t(3) }, slots: [t(1)] };
  assertSameStructure(a, { slots: [t(1)], dense: { bias: t(3), kernel: t(2, 3) } }, 'state');
  const fails = (b: unknown, path: RegExp) =>
    assert.throws(() => assertSameStructure(a, b, 'state'), (e: Error) => e instanceof ShapeMismatchError && path.test(e.message));
  fails({ dense: { kernel: t(3, 2), bias: t(3) }, slots: [t(1)] }, /state at 'dense\/kernel'/);
  fails({ dense: { kernel: t(2, 3) }, slots: [t(1)] }, /state at 'dense'.*keys bias, kernel/);
  fails({ dense: { kernel: t(2, 3), bias: t(3) }, slots: [] }, /state at 'slots'.*list of 1/);
  fails({ dense: { kernel: t(2, 3), bias: 3 }, slots: [t(1)] }, /state at 'dense\/bias'/);
}

test('sameShape, leaves and fromLeaves (properties)', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(5), { maxLength: 4 }), fc.array(fc.nat(5), { maxLength: 4 }), (x, y) => {
      assert.equal(sameShape(x, y), JSON.stringify(x) === JSON.stringify(y));
    }),
  );
  fc.assert(
    fc.property(fc.uniqueArray(fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }).map((p) => p.join('/')), { maxLength: 6 }), (paths) => {
      // Paths where one is a prefix of another would make a leaf a subtree: keep the others.
      const ok = paths.filter((p) => !paths.some((q) => q !== p && (q.startsWith(`${p}/`) || p.startsWith(`${q}/`))));
      const tree = fromLeaves(ok.map((p, i) => [p, i] as [string, number]));
      assert.deepEqual(leaves(tree, (x): x is number => typeof x === 'number').sort(), ok.map((p, i) => [p, i] as [string, number]).sort());
    }),
  );
});
