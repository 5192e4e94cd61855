import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError, InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { foldIn, seedOf } from '../core/rng.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer } from './layer.js';

const fields = t.intersection([
  t.type({ rate: t.number }),
  t.partial({ noise_shape: nullable(t.array(nullable(t.number))), seed: nullable(t.number) }),
]);
export type DropoutArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `Dropout`: in training, zeroes each element with probability `rate`
 * and scales the rest by `1 / (1 - rate)` (as `tf.nn.dropout`); at inference
 * it is the identity. `noise_shape` shares one draw along axes of size 1
 * (null entries take the input's size). Randomness comes from `options.key`
 * (with `seed` folded in when the config has one).
 */
export function Dropout(args: DropoutArgs): Layer {
  const c = decodeLayerConfig('Dropout', fields, args);
  const where = `Dropout '${c.name}'`;
  if (!(c.rate >= 0 && c.rate <= 1)) throw new ConfigDecodeError('rate', 'a number in [0, 1]', c.rate, where);
  const config = { ...c, rate: c.rate, noise_shape: c.noise_shape ?? null, seed: c.seed ?? null };
  return defineLayer('Dropout', config, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
    apply(_params, state, inputs, options) {
      const x = inputs as ops.Tensor;
      if (!options.training || c.rate === 0) return { outputs: x, state };
      if (options.key === undefined) throw new InvalidArgumentError(`${where}: options.key`, 'a random key in training mode', undefined);
      const key = config.seed === null ? options.key : foldIn(options.key, config.seed);
      const noiseShape = config.noise_shape
        ? config.noise_shape.map((d, i) => (d === null ? x.shape[i] : d))
        : x.shape;
      if (noiseShape.length !== x.rank || noiseShape.some((d, i) => d !== x.shape[i] && d !== 1))
        throw new ShapeMismatchError(`${where}: noise_shape`, x.shape, noiseShape);
      const outputs = ops.tidy(() => {
        if (c.rate === 1) return ops.zerosLike(x);
        const keep = ops.cast(ops.greaterEqual(ops.randomUniform(noiseShape, 0, 1, 'float32', seedOf(key)), c.rate), x.dtype);
        return ops.mul(ops.mul(x, 1 / (1 - c.rate)), keep);
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
  });
}
