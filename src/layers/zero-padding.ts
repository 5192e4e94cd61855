import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { intOrTuple, nullable } from '../core/config.js';
import { checkRank, dataFormatOf } from './common.js';
import { intTuple, joinShape, pairsCodec, pairsOf, padOrCrop, splitShape } from './conv-utils.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields1d = t.partial({ padding: intOrTuple });
const fieldsNd = t.partial({ padding: pairsCodec, data_format: nullable(t.string) });
export type ZeroPadding1DArgs = t.TypeOf<typeof fields1d> & Record<string, unknown>;
export type ZeroPaddingArgs = t.TypeOf<typeof fieldsNd> & Record<string, unknown>;

function zeroPadding(rank: 1 | 2 | 3, className: string, c: ReturnType<typeof decodeLayerConfig>, pads: [number, number][], format: 'channels_last' | 'channels_first', config: Record<string, unknown>): Layer {
  const where = `${className} '${c.name}'`;
  const outShape = (s: Shape): Shape => {
    const { batch, spatial, channels } = splitShape(s, rank, format, where);
    return joinShape(batch, spatial.map((d, i) => (d === null ? null : d + pads[i][0] + pads[i][1])), channels, format);
  };
  const axes = pads.map((_, i) => (format === 'channels_last' ? i + 1 : i + 2));
  return defineLayer(className, { ...c, ...config }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape as Shape) }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, rank + 2, where);
      return { outputs: ops.tidy(() => padOrCrop(x, axes, pads)), state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
  });
}

/** Keras `ZeroPadding1D`: `padding` = (start, end) zero steps; default 1 on each side. */
export function ZeroPadding1D(args: ZeroPadding1DArgs = {}): Layer {
  const c = decodeLayerConfig('ZeroPadding1D', fields1d, args);
  const pad = intTuple(c.padding, 1, 2, 'padding', `ZeroPadding1D '${c.name}'`, 0) as [number, number];
  return zeroPadding(1, 'ZeroPadding1D', c, [pad], 'channels_last', { padding: pad });
}

/** Keras `ZeroPadding2D`: ((top, bottom), (left, right)); default 1 everywhere. */
export function ZeroPadding2D(args: ZeroPaddingArgs = {}): Layer {
  const c = decodeLayerConfig('ZeroPadding2D', fieldsNd, args);
  const where = `ZeroPadding2D '${c.name}'`;
  const pads = pairsOf(c.padding, 1, 2, 'padding', where);
  const format = dataFormatOf(c.data_format, where);
  return zeroPadding(2, 'ZeroPadding2D', c, pads, format, { padding: pads, data_format: format });
}

/** Keras `ZeroPadding3D`: three (start, end) pairs; default 1 everywhere. */
export function ZeroPadding3D(args: ZeroPaddingArgs = {}): Layer {
  const c = decodeLayerConfig('ZeroPadding3D', fieldsNd, args);
  const where = `ZeroPadding3D '${c.name}'`;
  const pads = pairsOf(c.padding, 1, 3, 'padding', where);
  const format = dataFormatOf(c.data_format, where);
  return zeroPadding(3, 'ZeroPadding3D', c, pads, format, { padding: pads, data_format: format });
}
