import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { intOrTuple, nullable } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { checkRank, dataFormatOf, type DataFormat } from './common.js';
import { fromChannelsLast, intTuple, joinShape, repeatElements, splitShape, toChannelsLast } from './conv-utils.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields1d = t.partial({ size: t.number });
const fieldsNd = t.partial({ size: intOrTuple, data_format: nullable(t.string), interpolation: t.string });
export type UpSampling1DArgs = t.TypeOf<typeof fields1d> & Record<string, unknown>;
export type UpSamplingArgs = t.TypeOf<typeof fieldsNd> & Record<string, unknown>;

/**
 * The (out, in) matrix of TensorFlow 2's bilinear resize (`tf.image.resize`,
 * half-pixel centres, no antialiasing) along one axis: source position
 * `(o + 0.5) * in / out - 0.5`, neighbours clamped to the edges.
 */
export function bilinearMatrix(inSize: number, outSize: number): number[][] {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, o) => {
    const row = new Array<number>(inSize).fill(0);
    const src = (o + 0.5) * scale - 0.5;
    const f = Math.floor(src);
    const lerp = src - f;
    const lo = Math.max(f, 0);
    const hi = Math.min(Math.ceil(src), inSize - 1);
    row[lo] += 1 - lerp;
    row[hi] += lerp;
    return row;
  });
}

/** Bilinear resize of channels-last (batch, h, w, c) as two matrix products (differentiable on every backend). */
function resizeBilinear(x: ops.Tensor, outH: number, outW: number): ops.Tensor {
  const [n, h, w, c] = x.shape;
  const ah = ops.tensor2d(bilinearMatrix(h, outH));
  const aw = ops.tensor2d(bilinearMatrix(w, outW));
  // rows: (n, w, c, h) @ ah^T -> (n, w, c, outH)
  let y = ops.reshape(ops.transpose(x, [0, 2, 3, 1]), [n * w * c, h]);
  y = ops.reshape(ops.matMul(y, ah, false, true), [n, w, c, outH]);
  // cols: (n, outH, c, w) @ aw^T -> (n, outH, c, outW)
  y = ops.reshape(ops.transpose(y, [0, 3, 2, 1]), [n * outH * c, w]);
  y = ops.reshape(ops.matMul(y, aw, false, true), [n, outH, c, outW]);
  return ops.transpose(y, [0, 1, 3, 2]);
}

function upSampling(rank: 1 | 2 | 3, className: string, c: ReturnType<typeof decodeLayerConfig>, size: number[], format: DataFormat, bilinear: boolean, config: Record<string, unknown>): Layer {
  const where = `${className} '${c.name}'`;
  const outShape = (s: Shape): Shape => {
    const { batch, spatial, channels } = splitShape(s, rank, format, where);
    return joinShape(batch, spatial.map((d, i) => (d === null ? null : d * size[i])), channels, format);
  };
  return defineLayer(className, { ...c, ...config }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape as Shape) }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, rank + 2, where);
      const outputs = ops.tidy(() => {
        let y = toChannelsLast(x, format);
        if (bilinear) y = resizeBilinear(y, (y.shape[1] as number) * size[0], (y.shape[2] as number) * size[1]);
        else size.forEach((s, i) => (y = repeatElements(y, i + 1, s)));
        return fromChannelsLast(y, format);
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
  });
}

/** Keras `UpSampling1D`: repeats each step `size` times (default 2). */
export function UpSampling1D(args: UpSampling1DArgs = {}): Layer {
  const c = decodeLayerConfig('UpSampling1D', fields1d, args);
  const size = intTuple(c.size, 2, 1, 'size', `UpSampling1D '${c.name}'`);
  return upSampling(1, 'UpSampling1D', c, size, 'channels_last', false, { size: size[0] });
}

/** Keras `UpSampling2D`: `size` (default (2, 2)), interpolation 'nearest' (repeats) or 'bilinear' (TF 2's half-pixel resize). */
export function UpSampling2D(args: UpSamplingArgs = {}): Layer {
  const c = decodeLayerConfig('UpSampling2D', fieldsNd, args);
  const where = `UpSampling2D '${c.name}'`;
  const size = intTuple(c.size, 2, 2, 'size', where);
  const format = dataFormatOf(c.data_format, where);
  const interpolation = c.interpolation ?? 'nearest';
  if (interpolation !== 'nearest' && interpolation !== 'bilinear')
    throw new ConfigDecodeError('interpolation', "'nearest' or 'bilinear' (other tf.image methods are not supported)", interpolation, where);
  return upSampling(2, 'UpSampling2D', c, size, format, interpolation === 'bilinear', { size, data_format: format, interpolation });
}

/** Keras `UpSampling3D`: repeats along the three spatial axes, `size` default (2, 2, 2). */
export function UpSampling3D(args: UpSamplingArgs = {}): Layer {
  const c = decodeLayerConfig('UpSampling3D', fieldsNd, args);
  const where = `UpSampling3D '${c.name}'`;
  const size = intTuple(c.size, 2, 3, 'size', where);
  const format = dataFormatOf(c.data_format, where);
  return upSampling(3, 'UpSampling3D', c, size, format, false, { size, data_format: format });
}
