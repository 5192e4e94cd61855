import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer } from './layer.js';

const fields = t.partial({ alpha: t.number });
export type ELUArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** Keras `ELU`: `x` for x > 0, `alpha * (exp(x) - 1)` below (alpha 1.0 by default). */
export function ELU(args: ELUArgs = {}): Layer {
  const c = decodeLayerConfig('ELU', fields, args);
  const alpha = c.alpha ?? 1.0;
  if (!Number.isFinite(alpha)) throw new ConfigDecodeError('alpha', 'a finite number', alpha, `ELU '${c.name}'`);
  return defineLayer('ELU', { ...c, alpha }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      // Keras's backend.elu: nn.elu, with the negative part scaled when alpha != 1.
      // step(x) is 1 where x > 0 (with a zero gradient, which tfjs comparisons lack).
      const outputs = alpha === 1 ? ops.elu(x) : ops.tidy(() => ops.mul(ops.elu(x), ops.add(alpha, ops.mul(1 - alpha, ops.step(x)))));
      return { outputs, state };
    },
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
  });
}
