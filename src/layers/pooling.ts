import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { intOrTuple, nullable } from '../core/config.js';
import { checkRank, dataFormatOf, paddingOf } from './common.js';
import { convLength, fromChannelsLast, intTuple, joinShape, splitShape, toChannelsLast } from './conv-utils.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields = t.partial({
  pool_size: intOrTuple,
  strides: nullable(intOrTuple),
  padding: t.string,
  data_format: nullable(t.string),
});
export type PoolingArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * 3D max pooling as two 2D ones: over (dim2, dim3) for every dim1 slice, then
 * over dim1. The maximum is separable, TensorFlow's 'same' padding is per
 * axis, and the gradient still reaches the first maximum in (dim1, dim2,
 * dim3) order. (The stock wasm MaxPool3D kernel of tfjs 4.22 returns wrong
 * values for most window shapes, e.g. pool (2, 2, 2) with strides 1.)
 */
function maxPool3dSeparable(x: ops.Tensor, poolSize: number[], strides: number[], padding: 'valid' | 'same'): ops.Tensor {
  const [n, d, h, w, c] = x.shape;
  const planes = ops.maxPool(ops.reshape(x, [n * d, h, w, c]) as ops.Tensor4D, [poolSize[1], poolSize[2]], [strides[1], strides[2]], padding);
  const [, oh, ow] = planes.shape;
  const depth = ops.maxPool(ops.reshape(planes, [n, d, oh * ow, c]) as ops.Tensor4D, [poolSize[0], 1], [strides[0], 1], padding);
  return ops.reshape(depth, [n, depth.shape[1], oh, ow, c]);
}

type PoolingClass = 'MaxPooling1D' | 'AveragePooling1D' | 'MaxPooling3D' | 'AveragePooling3D';

/**
 * Keras 1D and 3D pooling (2D lives in pooling2d.ts): the max or mean over
 * `pool_size` windows, strides defaulting to the pool size; with 'same'
 * padding the mean counts only cells inside the input, as TensorFlow does.
 * 1D pools run as 2D pools on a width-1 input, as Keras does.
 */
function pooling(rank: 1 | 3, className: PoolingClass, args: PoolingArgs): Layer {
  const c = decodeLayerConfig(className, fields, args);
  const where = `${className} '${c.name}'`;
  const poolSize = intTuple(c.pool_size, 2, rank, 'pool_size', where);
  const strides = intTuple(c.strides ?? undefined, poolSize, rank, 'strides', where);
  const padding = paddingOf(c.padding, where);
  const format = dataFormatOf(c.data_format, where);
  const config = { ...c, strides, pool_size: poolSize, padding, data_format: format };
  const outShape = (s: Shape): Shape => {
    const { batch, spatial, channels } = splitShape(s, rank, format, where);
    return joinShape(batch, spatial.map((d, i) => convLength(d, poolSize[i], padding, strides[i])), channels, format);
  };
  const max = className.startsWith('Max');
  const pool = (x: ops.Tensor): ops.Tensor => {
    if (rank === 1) {
      const x4 = ops.expandDims(x, 2) as ops.Tensor4D;
      const f = max ? ops.maxPool : ops.avgPool;
      return ops.squeeze(f(x4, [poolSize[0], 1], [strides[0], 1], padding), [2]);
    }
    if (!max) return ops.avgPool3d(x as ops.Tensor5D, poolSize as [number, number, number], strides as [number, number, number], padding, undefined, 'NDHWC');
    return maxPool3dSeparable(x, poolSize, strides, padding);
  };
  return defineLayer(className, config, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape as Shape) }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, rank + 2, where);
      return { outputs: ops.tidy(() => fromChannelsLast(pool(toChannelsLast(x, format)), format)), state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
  });
}

/** Keras `MaxPooling1D` (pool_size 2). */
export function MaxPooling1D(args: PoolingArgs = {}): Layer {
  return pooling(1, 'MaxPooling1D', args);
}

/** Keras `AveragePooling1D` (pool_size 2). */
export function AveragePooling1D(args: PoolingArgs = {}): Layer {
  return pooling(1, 'AveragePooling1D', args);
}

/** Keras `MaxPooling3D` (pool_size (2, 2, 2)). */
export function MaxPooling3D(args: PoolingArgs = {}): Layer {
  return pooling(3, 'MaxPooling3D', args);
}

/** Keras `AveragePooling3D` (pool_size (2, 2, 2)). */
export function AveragePooling3D(args: PoolingArgs = {}): Layer {
  return pooling(3, 'AveragePooling3D', args);
}
