import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { backendReady } from '../helpers/backend.js';
import { getRegularizer, l1l2, serializeRegularizer } from '../../src/regularizers/index.js';
import { UnknownNameError } from '../../src/core/errors.js';

await backendReady;

test('L1, L2 and L1L2 penalties equal l1 * sum|w| + l2 * sum w^2, with Keras defaults', () => {
  const w = tf.tensor2d([[1, -2], [0.5, 3]]);
  const abs = 1 + 2 + 0.5 + 3;
  const sq = 1 + 4 + 0.25 + 9;
  const cases: [Parameters<typeof getRegularizer>[0], number][] = [
    ['l1', 0.01 * abs],
    ['l2', 0.01 * sq],
    ['l1_l2', 0.01 * abs + 0.01 * sq],
    [{ class_name: 'L1L2', config: { l1: 0.1, l2: 0.2 } }, 0.1 * abs + 0.2 * sq],
    [{ class_name: 'L1L2', config: {} }, 0],
    [{ class_name: 'L2', config: { l2: 0.3 } }, 0.3 * sq],
  ];
  for (const [spec, want] of cases) {
    const loss = getRegularizer(spec)!.loss(w);
    assert.ok(Math.abs(loss.dataSync()[0] - want) < 1e-5, `${JSON.stringify(spec)}: ${loss.dataSync()[0]} vs ${want}`);
    loss.dispose();
  }
  assert.equal(getRegularizer(null), null);
  assert.deepEqual(serializeRegularizer(getRegularizer('l2')), { class_name: 'L2', config: { l2: 0.01 } });
  assert.deepEqual(serializeRegularizer(l1l2(0.5, 0)), { class_name: 'L1L2', config: { l1: 0.5, l2: 0 } });
  assert.throws(() => getRegularizer('l3'), UnknownNameError);
  w.dispose();
});
