import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { intOrTuple, nullable, tupleOf } from '../core/config.js';
import { checkPositive, checkRank, convOutputLength, dataFormatOf, fromNHWC, paddingOf, shape2d, spatial2d, toNHWC } from './common.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields = t.partial({
  pool_size: intOrTuple,
  strides: nullable(intOrTuple),
  padding: t.string,
  data_format: nullable(t.string),
});
export type Pooling2DArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

function pooling2d(className: 'MaxPooling2D' | 'AveragePooling2D', args: Pooling2DArgs): Layer {
  const c = decodeLayerConfig(className, fields, args);
  const where = `${className} '${c.name}'`;
  const poolSize = checkPositive(tupleOf(c.pool_size ?? 2, 2, 'pool_size', where), 'pool_size', where) as [number, number];
  const strides = checkPositive(tupleOf(c.strides ?? poolSize, 2, 'strides', where), 'strides', where) as [number, number];
  const padding = paddingOf(c.padding, where);
  const format = dataFormatOf(c.data_format, where);
  const config = { ...c, pool_size: poolSize, padding, strides, data_format: format };
  const outShape = (s: Shape): Shape => {
    const { batch, rows, cols, channels } = spatial2d(s, format, where);
    return shape2d(
      batch,
      convOutputLength(rows, poolSize[0], padding, strides[0]),
      convOutputLength(cols, poolSize[1], padding, strides[1]),
      channels,
      format,
    );
  };
  const pool = className === 'MaxPooling2D' ? ops.maxPool : ops.avgPool;
  return defineLayer(className, config, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape as Shape) }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, 4, where);
      const outputs = ops.tidy(() => fromNHWC(pool(toNHWC(x, format), poolSize, strides, padding), format));
      return { outputs, state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
  });
}

/** Keras `MaxPooling2D`: the maximum over `pool_size` windows (strides default to pool_size). */
export function MaxPooling2D(args: Pooling2DArgs = {}): Layer {
  return pooling2d('MaxPooling2D', args);
}

/** Keras `AveragePooling2D`: the mean over `pool_size` windows; with 'same' padding, padded cells are not counted. */
export function AveragePooling2D(args: Pooling2DArgs = {}): Layer {
  return pooling2d('AveragePooling2D', args);
}
