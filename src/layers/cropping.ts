import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { intOrTuple, nullable } from '../core/config.js';
import { ShapeMismatchError } from '../core/errors.js';
import { checkRank, dataFormatOf } from './common.js';
import { intTuple, joinShape, pairsCodec, pairsOf, padOrCrop, splitShape } from './conv-utils.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields1d = t.partial({ cropping: intOrTuple });
const fieldsNd = t.partial({ cropping: pairsCodec, data_format: nullable(t.string) });
export type Cropping1DArgs = t.TypeOf<typeof fields1d> & Record<string, unknown>;
export type CroppingArgs = t.TypeOf<typeof fieldsNd> & Record<string, unknown>;

function cropping(rank: 1 | 2 | 3, className: string, c: ReturnType<typeof decodeLayerConfig>, crops: [number, number][], format: 'channels_last' | 'channels_first', config: Record<string, unknown>): Layer {
  const where = `${className} '${c.name}'`;
  const outShape = (s: Shape): Shape => {
    const { batch, spatial, channels } = splitShape(s, rank, format, where);
    return joinShape(batch, spatial.map((d, i) => (d === null ? null : d - crops[i][0] - crops[i][1])), channels, format);
  };
  const axes = crops.map((_, i) => (format === 'channels_last' ? i + 1 : i + 2));
  return defineLayer(className, { ...c, ...config }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape as Shape) }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, rank + 2, where);
      if (axes.some((a, i) => crops[i][0] + crops[i][1] >= x.shape[a]))
        throw new ShapeMismatchError(`${where}: cropping ${JSON.stringify(crops)} leaves nothing`, 'spatial dims larger than the cropping', x.shape);
      return { outputs: ops.tidy(() => padOrCrop(x, axes, crops.map(([a, b]): [number, number] => [-a, -b]))), state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
  });
}

/** Keras `Cropping1D`: drops `cropping` = (start, end) steps of (batch, steps, features); default (1, 1). */
export function Cropping1D(args: Cropping1DArgs = {}): Layer {
  const c = decodeLayerConfig('Cropping1D', fields1d, args);
  const crop = intTuple(c.cropping, 1, 2, 'cropping', `Cropping1D '${c.name}'`, 0) as [number, number];
  return cropping(1, 'Cropping1D', c, [crop], 'channels_last', { cropping: crop });
}

/** Keras `Cropping2D`: ((top, bottom), (left, right)); default no cropping. */
export function Cropping2D(args: CroppingArgs = {}): Layer {
  const c = decodeLayerConfig('Cropping2D', fieldsNd, args);
  const where = `Cropping2D '${c.name}'`;
  const crops = pairsOf(c.cropping, [[0, 0], [0, 0]], 2, 'cropping', where);
  const format = dataFormatOf(c.data_format, where);
  return cropping(2, 'Cropping2D', c, crops, format, { cropping: crops, data_format: format });
}

/** Keras `Cropping3D`: three (start, end) pairs; default ((1, 1), (1, 1), (1, 1)). */
export function Cropping3D(args: CroppingArgs = {}): Layer {
  const c = decodeLayerConfig('Cropping3D', fieldsNd, args);
  const where = `Cropping3D '${c.name}'`;
  const crops = pairsOf(c.cropping, 1, 3, 'cropping', where);
  const format = dataFormatOf(c.data_format, where);
  return cropping(3, 'Cropping3D', c, crops, format, { cropping: crops, data_format: format });
}
