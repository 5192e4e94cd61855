import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError } from '../core/errors.js';
import { l1l2 } from '../regularizers/index.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer } from './layer.js';

const fields = t.partial({ l1: t.number, l2: t.number });
export type ActivityRegularizationArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `ActivityRegularization`: the identity, plus a training-only loss
 * `(l1 * sum|y| + l2 * sum y^2) / batch_size` on its output (tf.keras 2
 * divides every activity penalty by the batch size).
 */
export function ActivityRegularization(args: ActivityRegularizationArgs = {}): Layer {
  const c = decodeLayerConfig('ActivityRegularization', fields, args);
  const where = `ActivityRegularization '${c.name}'`;
  const l1 = c.l1 ?? 0;
  const l2 = c.l2 ?? 0;
  if (!(l1 >= 0)) throw new ConfigDecodeError('l1', 'a number >= 0', c.l1, where);
  if (!(l2 >= 0)) throw new ConfigDecodeError('l2', 'a number >= 0', c.l2, where);
  const config = { ...c, l1, l2 };
  const reg = l1l2(l1, l2);
  return defineLayer('ActivityRegularization', config, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
    apply: (_params, state, inputs) => ({ outputs: inputs, state }),
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
    activityRegularization(outputs) {
      if (l1 === 0 && l2 === 0) return null;
      // The model divides by the batch size, as for every layer's activity penalty.
      return reg.loss(outputs as ops.Tensor);
    },
  });
}
