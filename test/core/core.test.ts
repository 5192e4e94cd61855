import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as t from 'io-ts';
import { backendReady } from '../helpers/backend.js';
import { foldIn, makeKey, permutation, split } from '../../src/core/rng.js';
import { decodeConfig, oneOf, tupleOf } from '../../src/core/config.js';
import { ConfigDecodeError } from '../../src/core/errors.js';
import { resetNames, toSnakeCase, uniqueName } from '../../src/core/names.js';

await backendReady;

test('rng: permutation is a permutation, reproducible by key; split and foldIn give distinct keys', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 300 }), (seed, n) => {
      const key = makeKey(seed);
      const p = permutation(key, n);
      assert.deepEqual([...p].sort((a, b) => a - b), [...Array(n).keys()]);
      assert.deepEqual(permutation(key, n), p);
      const [a, b] = split(key);
      assert.notEqual(a, b);
      assert.notEqual(foldIn(key, 1), foldIn(key, 2));
      assert.equal(foldIn(key, 'dense'), foldIn(key, 'dense'));
    }),
    { numRuns: 50 },
  );
  // Different keys give different orders (for n large enough that a collision is negligible).
  assert.notDeepEqual(permutation(makeKey(1), 50), permutation(makeKey(2), 50));
});

test("names: Keras's to_snake_case and per-prefix counters", () => {
  const cases: [string, string][] = [
    ['Dense', 'dense'], ['Conv2D', 'conv2d'], ['MaxPooling2D', 'max_pooling2d'], ['LeakyReLU', 'leaky_re_lu'],
    ['BatchNormalization', 'batch_normalization'], ['GlobalAveragePooling2D', 'global_average_pooling2d'],
    ['PReLU', 'p_re_lu'], ['SimpleRNN', 'simple_rnn'], ['ConvLSTM2D', 'conv_lst_m2d'], ['Conv2DTranspose', 'conv2d_transpose'],
  ];
  for (const [k, snake] of cases) assert.equal(toSnakeCase(k), snake, k);
  resetNames();
  assert.deepEqual([uniqueName('dense'), uniqueName('dense'), uniqueName('conv2d'), uniqueName('dense')], ['dense', 'dense_1', 'conv2d', 'dense_2']);
  assert.deepEqual([uniqueName('input', false), uniqueName('input', false)], ['input_1', 'input_2']);
});

test('config decoding: the error names the path of the bad field, what was expected and what was found', () => {
  const codec = t.type({ units: t.number, inner: t.type({ mode: oneOf(['a', 'b']) }), list: t.array(t.number) });
  assert.throws(
    () => decodeConfig(codec, { units: 3, inner: { mode: 'c' }, list: [] }, 'Thing config'),
    (e: Error) => e instanceof ConfigDecodeError && e.path === 'inner.mode' && /'a' \| 'b'/.test(e.message) && /'c'/.test(e.message) && /Thing config/.test(e.message),
  );
  assert.throws(() => decodeConfig(codec, { units: 3, inner: { mode: 'a' }, list: [1, 'x'] }, 'w'), (e: Error) => e instanceof ConfigDecodeError && e.path === 'list.1');
  assert.deepEqual(tupleOf(3, 2, 'kernel_size', 'w'), [3, 3]);
  assert.throws(() => tupleOf([1, 2, 3], 2, 'kernel_size', 'w'), (e: Error) => e instanceof ConfigDecodeError && e.path === 'kernel_size');
});
