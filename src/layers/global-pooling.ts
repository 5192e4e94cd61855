import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { checkRank, dataFormatOf } from './common.js';
import { splitShape } from './conv-utils.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields = t.partial({ data_format: nullable(t.string), keepdims: t.boolean });
export type GlobalPoolingArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

type GlobalPoolingClass = 'GlobalAveragePooling1D' | 'GlobalMaxPooling1D' | 'GlobalAveragePooling3D' | 'GlobalMaxPooling3D';

/**
 * Keras global pooling over the steps (1D) or the three spatial axes (3D)
 * (2D lives in global-pooling2d.ts). GlobalAveragePooling1D honours an
 * input mask as Keras does: the mean over unmasked steps only.
 */
function globalPooling(rank: 1 | 3, className: GlobalPoolingClass, args: GlobalPoolingArgs): Layer {
  const c = decodeLayerConfig(className, fields, args);
  const where = `${className} '${c.name}'`;
  const format = dataFormatOf(c.data_format, where);
  const keepdims = c.keepdims ?? false;
  const axes = Array.from({ length: rank }, (_, i) => (format === 'channels_last' ? i + 1 : i + 2));
  const outShape = (s: Shape): Shape => {
    const { batch, channels } = splitShape(s, rank, format, where);
    if (!keepdims) return [batch, channels];
    const ones = axes.map(() => 1);
    return format === 'channels_last' ? [batch, ...ones, channels] : [batch, channels, ...ones];
  };
  const max = className.startsWith('GlobalMax');
  return defineLayer(className, { ...c, data_format: format, keepdims }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape as Shape) }),
    apply(_params, state, inputs, options) {
      const x = inputs as ops.Tensor;
      checkRank(x, rank + 2, where);
      const mask = Array.isArray(options.mask) ? options.mask[0] : options.mask;
      const outputs = ops.tidy(() => {
        if (max) return ops.max(x, axes, keepdims);
        if (rank === 1 && mask) {
          const m = ops.expandDims(ops.cast(mask, 'float32'), format === 'channels_last' ? 2 : 1);
          return ops.div(ops.sum(ops.mul(x, m), axes, keepdims), ops.sum(m, axes, keepdims));
        }
        return ops.mean(x, axes, keepdims);
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
    computeMask: () => null,
  });
}

/** Keras `GlobalAveragePooling1D`: the mean over the steps (unmasked ones when a mask comes in). */
export function GlobalAveragePooling1D(args: GlobalPoolingArgs = {}): Layer {
  return globalPooling(1, 'GlobalAveragePooling1D', args);
}

/** Keras `GlobalMaxPooling1D`: the maximum over the steps. */
export function GlobalMaxPooling1D(args: GlobalPoolingArgs = {}): Layer {
  return globalPooling(1, 'GlobalMaxPooling1D', args);
}

/** Keras `GlobalAveragePooling3D`. */
export function GlobalAveragePooling3D(args: GlobalPoolingArgs = {}): Layer {
  return globalPooling(3, 'GlobalAveragePooling3D', args);
}

/** Keras `GlobalMaxPooling3D`. */
export function GlobalMaxPooling3D(args: GlobalPoolingArgs = {}): Layer {
  return globalPooling(3, 'GlobalMaxPooling3D', args);
}
