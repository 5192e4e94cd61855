import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import { noiseSeed } from './noise-key.js';
import type { Layer } from './layer.js';

const fields = t.intersection([t.type({ rate: t.number }), t.partial({ seed: nullable(t.number) })]);
export type GaussianDropoutArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `GaussianDropout`: for 0 < rate < 1, in training multiplies by
 * N(1, rate / (1 - rate)) noise drawn from `options.key`; otherwise (and at
 * inference) the identity.
 */
export function GaussianDropout(args: GaussianDropoutArgs): Layer {
  const c = decodeLayerConfig('GaussianDropout', fields, args);
  const where = `GaussianDropout '${c.name}'`;
  if (!(c.rate >= 0 && c.rate <= 1)) throw new ConfigDecodeError('rate', 'a number in [0, 1]', c.rate, where);
  const config = { ...c, rate: c.rate, seed: c.seed ?? null };
  return defineLayer('GaussianDropout', config, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
    apply(_params, state, inputs, options) {
      const x = inputs as ops.Tensor;
      if (!options.training || !(c.rate > 0 && c.rate < 1)) return { outputs: x, state };
      const seed = noiseSeed(options, config.seed, where);
      const stddev = Math.sqrt(c.rate / (1 - c.rate));
      const outputs = ops.tidy(() => ops.mul(x, ops.randomNormal(x.shape, 1, stddev, 'float32', seed)));
      return { outputs, state };
    },
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
  });
}
