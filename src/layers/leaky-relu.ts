import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer } from './layer.js';

const fields = t.partial({ alpha: t.number });
export type LeakyReLUArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** Keras `LeakyReLU`: `x` for x >= 0, `alpha * x` below (alpha 0.3 by default). */
export function LeakyReLU(args: LeakyReLUArgs = {}): Layer {
  const c = decodeLayerConfig('LeakyReLU', fields, args);
  const alpha = c.alpha ?? 0.3;
  if (!Number.isFinite(alpha)) throw new ConfigDecodeError('alpha', 'a finite number', alpha, `LeakyReLU '${c.name}'`);
  return defineLayer('LeakyReLU', { ...c, alpha }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
    apply: (_params, state, inputs) => ({
      outputs: alpha === 0 ? ops.relu(inputs as ops.Tensor) : ops.leakyRelu(inputs as ops.Tensor, alpha),
      state,
    }),
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
  });
}
