import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { checkRank, dataFormatOf, spatial2d } from './common.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields = t.partial({ data_format: nullable(t.string), keepdims: t.boolean });
export type GlobalPooling2DArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

function globalPooling2d(className: 'GlobalAveragePooling2D' | 'GlobalMaxPooling2D', args: GlobalPooling2DArgs): Layer {
  const c = decodeLayerConfig(className, fields, args);
  const where = `${className} '${c.name}'`;
  const format = dataFormatOf(c.data_format, where);
  const keepdims = c.keepdims ?? false;
  const axes = format === 'channels_last' ? [1, 2] : [2, 3];
  const outShape = (s: Shape): Shape => {
    const { batch, channels } = spatial2d(s, format, where);
    if (!keepdims) return [batch, channels];
    return format === 'channels_last' ? [batch, 1, 1, channels] : [batch, channels, 1, 1];
  };
  const reduce = className === 'GlobalMaxPooling2D' ? ops.max : ops.mean;
  return defineLayer(className, { ...c, data_format: format, keepdims }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape as Shape) }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, 4, where);
      return { outputs: reduce(x, axes, keepdims), state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
  });
}

/** Keras `GlobalAveragePooling2D`: the mean over the spatial axes. */
export function GlobalAveragePooling2D(args: GlobalPooling2DArgs = {}): Layer {
  return globalPooling2d('GlobalAveragePooling2D', args);
}

/** Keras `GlobalMaxPooling2D`: the maximum over the spatial axes. */
export function GlobalMaxPooling2D(args: GlobalPooling2DArgs = {}): Layer {
  return globalPooling2d('GlobalMaxPooling2D', args);
}
