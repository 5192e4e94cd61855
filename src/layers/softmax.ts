import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer } from './layer.js';

const fields = t.partial({ axis: t.union([t.number, t.array(t.number)]) });
export type SoftmaxArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `Softmax` over `axis` (-1 by default; a list normalises over several
 * axes). With a mask (1 = keep), masked positions get -1e9 added first, as Keras.
 */
export function Softmax(args: SoftmaxArgs = {}): Layer {
  const c = decodeLayerConfig('Softmax', fields, args);
  const axis = c.axis ?? -1;
  const axes = typeof axis === 'number' ? [axis] : axis;
  if (axes.length === 0 || axes.some((a) => !Number.isInteger(a)))
    throw new ConfigDecodeError('axis', 'an integer or a list of integers', axis, `Softmax '${c.name}'`);
  return defineLayer('Softmax', { ...c, axis }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
    apply(_params, state, inputs, options) {
      const x = inputs as ops.Tensor;
      const mask = Array.isArray(options.mask) ? options.mask[0] : options.mask;
      const outputs = ops.tidy(() => {
        let logits = x;
        if (mask) logits = ops.add(x, ops.mul(ops.sub(1, ops.cast(mask, x.dtype)), -1e9));
        const norm = axes.map((a) => (a < 0 ? a + x.rank : a));
        if (norm.length === 1 && norm[0] === x.rank - 1) return ops.softmax(logits, -1);
        return ops.exp(ops.sub(logits, ops.logSumExp(logits, norm, true)));
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => s,
  });
}
