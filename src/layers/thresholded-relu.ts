import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer } from './layer.js';

const fields = t.partial({ theta: t.number });
export type ThresholdedReLUArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** Keras `ThresholdedReLU`: `x` where x > theta, else 0 (theta 1.0 by default). */
export function ThresholdedReLU(args: ThresholdedReLUArgs = {}): Layer {
  const c = decodeLayerConfig('ThresholdedReLU', fields, args);
  const theta = c.theta ?? 1.0;
  if (!(theta >= 0)) throw new ConfigDecodeError('theta', 'a non-negative number', theta, `ThresholdedReLU '${c.name}'`);
  return defineLayer('ThresholdedReLU', { ...c, theta }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      // step(x - theta) is 1 where x > theta: the mask, with a zero gradient (tfjs comparisons have none).
      return { outputs: ops.tidy(() => ops.mul(x, ops.step(ops.sub(x, theta)))), state };
    },
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
  });
}
