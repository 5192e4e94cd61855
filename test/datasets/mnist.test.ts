import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadMnist } from '../../src/datasets/mnist.js';

test('loadMnist: disjoint seeded splits of the package digits, images in [0, 1], labels 0..9', () => {
  const { train, test: held } = loadMnist({ trainCount: 300, testCount: 100, seed: 7 });
  assert.equal(train.count, 300);
  assert.equal(held.count, 100);
  assert.equal(train.images.length, 300 * 784);
  assert.equal(held.labels.length, 100);
  for (const split of [train, held]) {
    assert.ok(split.images.every((v) => v >= 0 && v <= 1));
    assert.ok(split.labels.every((l) => Number.isInteger(l) && l >= 0 && l <= 9));
  }
  assert.ok(new Set(train.labels).size === 10, 'every digit appears in 300 samples');
  // The same seed gives the same split; another seed another one.
  const again = loadMnist({ trainCount: 300, testCount: 100, seed: 7 });
  assert.deepEqual(again.train.labels, train.labels);
  assert.deepEqual(again.test.images, held.images);
  assert.notDeepEqual(loadMnist({ trainCount: 300, testCount: 100, seed: 8 }).train.labels, train.labels);
  // Train and test images never repeat one another (a permutation, split in two).
  const key = (s: typeof train, i: number) => s.images.subarray(i * 784, (i + 1) * 784).join(',');
  const seen = new Set(Array.from({ length: train.count }, (_, i) => key(train, i)));
  const overlap = Array.from({ length: held.count }, (_, i) => key(held, i)).filter((k) => seen.has(k));
  assert.equal(overlap.length, 0, 'test images also in train');
});

test('loadMnist refuses more samples than the package has', () => {
  assert.throws(() => loadMnist({ trainCount: 9000, testCount: 2000 }), /the package has 10000/);
});
