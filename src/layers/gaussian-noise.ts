import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import { noiseSeed } from './noise-key.js';
import type { Layer } from './layer.js';

const fields = t.intersection([t.type({ stddev: t.number }), t.partial({ seed: nullable(t.number) })]);
export type GaussianNoiseArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** Keras `GaussianNoise`: in training adds N(0, stddev^2) noise drawn from `options.key`; identity at inference. */
export function GaussianNoise(args: GaussianNoiseArgs): Layer {
  const c = decodeLayerConfig('GaussianNoise', fields, args);
  const where = `GaussianNoise '${c.name}'`;
  if (!(c.stddev >= 0)) throw new ConfigDecodeError('stddev', 'a number >= 0', c.stddev, where);
  const config = { ...c, stddev: c.stddev, seed: c.seed ?? null };
  return defineLayer('GaussianNoise', config, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
    apply(_params, state, inputs, options) {
      const x = inputs as ops.Tensor;
      if (!options.training) return { outputs: x, state };
      const seed = noiseSeed(options, config.seed, where);
      const outputs = ops.tidy(() => ops.add(x, ops.randomNormal(x.shape, 0, config.stddev, 'float32', seed)));
      return { outputs, state };
    },
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
  });
}
