import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import { noiseSeed } from './noise-key.js';
import type { Layer } from './layer.js';

const fields = t.intersection([
  t.type({ rate: t.number }),
  t.partial({ noise_shape: nullable(t.array(nullable(t.number))), seed: nullable(t.number) }),
]);
export type AlphaDropoutArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** SELU's constants, as Keras writes them. */
const ALPHA = 1.6732632423543772848170429916717;
const SCALE = 1.0507009873554804934193349852946;

/**
 * Keras `AlphaDropout`: for 0 < rate < 1, in training sets dropped units to
 * `alpha_p = -alpha * scale` and applies the affine map `a * x + b` with
 * `a = ((1 - rate) * (1 + rate * alpha_p^2))^-0.5` and `b = -a * alpha_p * rate`,
 * which keeps a SELU activation's mean and variance. `noise_shape` (null
 * entries take the input's size) shares a draw along its axes of size 1.
 * Identity at inference.
 */
export function AlphaDropout(args: AlphaDropoutArgs): Layer {
  const c = decodeLayerConfig('AlphaDropout', fields, args);
  const where = `AlphaDropout '${c.name}'`;
  if (!(c.rate >= 0 && c.rate <= 1)) throw new ConfigDecodeError('rate', 'a number in [0, 1]', c.rate, where);
  // Keras's get_config has rate and seed; noise_shape is kept when it was given.
  const { noise_shape: noiseShapeArg, ...rest } = c;
  const config = { ...rest, rate: c.rate, seed: c.seed ?? null, ...(noiseShapeArg ? { noise_shape: noiseShapeArg } : {}) };
  return defineLayer('AlphaDropout', config, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
    apply(_params, state, inputs, options) {
      const x = inputs as ops.Tensor;
      const rate = c.rate;
      if (!options.training || !(rate > 0 && rate < 1)) return { outputs: x, state };
      const seed = noiseSeed(options, config.seed, where);
      const noiseShape = noiseShapeArg ? noiseShapeArg.map((d, i) => (d === null ? x.shape[i] : d)) : x.shape;
      if (noiseShape.length !== x.rank || noiseShape.some((d, i) => d !== x.shape[i] && d !== 1))
        throw new ShapeMismatchError(`${where}: noise_shape`, x.shape, noiseShape);
      const alphaP = -ALPHA * SCALE;
      const a = ((1 - rate) * (1 + rate * alphaP ** 2)) ** -0.5;
      const b = -a * alphaP * rate;
      const outputs = ops.tidy(() => {
        const kept = ops.cast(ops.greaterEqual(ops.randomUniform(noiseShape, 0, 1, 'float32', seed), rate), 'float32');
        const dropped = ops.add(ops.mul(x, kept), ops.mul(ops.sub(1, kept), alphaP));
        return ops.add(ops.mul(dropped, a), b);
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
  });
}
