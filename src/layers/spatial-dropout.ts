import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { dataFormatOf } from './common.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import { noiseSeed } from './noise-key.js';
import type { Layer, Shape } from './layer.js';

const fields = t.intersection([
  t.type({ rate: t.number }),
  t.partial({ data_format: nullable(t.string), noise_shape: t.unknown, seed: nullable(t.number) }),
]);
export type SpatialDropoutArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `SpatialDropout1D/2D/3D`: Dropout whose mask is drawn per sample and
 * channel and shared over the steps / rows / cols / depth, so whole feature
 * maps are dropped (kept ones scaled by 1 / (1 - rate)). 1D inputs are
 * (batch, steps, channels); 2D and 3D follow `data_format`.
 */
function spatialDropout(className: string, spatialDims: 1 | 2 | 3) {
  return (args: SpatialDropoutArgs): Layer => {
    const c = decodeLayerConfig(className, fields, args);
    const where = `${className} '${c.name}'`;
    if (!(c.rate >= 0 && c.rate <= 1)) throw new ConfigDecodeError('rate', 'a number in [0, 1]', c.rate, where);
    const format = spatialDims === 1 ? 'channels_last' : dataFormatOf(c.data_format, where);
    const { data_format: _df, noise_shape: _ns, ...rest } = c;
    // Keras's get_config (Dropout's) writes noise_shape null and no data_format; rxkeras keeps data_format for 2D/3D.
    const config = { ...rest, rate: c.rate, noise_shape: null, seed: c.seed ?? null, ...(spatialDims === 1 ? {} : { data_format: format }) };
    const rank = spatialDims + 2;
    const check = (s: readonly (number | null)[]) => {
      if (s.length !== rank) throw new ShapeMismatchError(where, `a rank-${rank} input`, [...s]);
    };
    return defineLayer(className, config, {
      init: (_key, inputShape) => {
        check(inputShape as Shape);
        return { params: {}, state: {}, outputShape: inputShape };
      },
      apply(_params, state, inputs, options) {
        const x = inputs as ops.Tensor;
        check(x.shape);
        if (!options.training || c.rate === 0) return { outputs: x, state };
        const seed = noiseSeed(options, config.seed, where);
        const channelAxis = format === 'channels_first' ? 1 : rank - 1;
        const noiseShape = x.shape.map((d, i) => (i === 0 || i === channelAxis ? d : 1));
        const outputs = ops.tidy(() => {
          if (c.rate === 1) return ops.zerosLike(x);
          const keep = ops.cast(ops.greaterEqual(ops.randomUniform(noiseShape, 0, 1, 'float32', seed), c.rate), x.dtype);
          return ops.mul(ops.mul(x, 1 / (1 - c.rate)), keep);
        });
        return { outputs, state };
      },
      computeOutputShape: (s) => {
        check(s as Shape);
        return s;
      },
      computeMask: (_inputs, mask) => mask ?? null,
    });
  };
}

export const SpatialDropout1D = spatialDropout('SpatialDropout1D', 1);
export const SpatialDropout2D = spatialDropout('SpatialDropout2D', 2);
export const SpatialDropout3D = spatialDropout('SpatialDropout3D', 3);
