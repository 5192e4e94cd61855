import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { dataFormatOf } from './common.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields = t.partial({ data_format: nullable(t.string) });
export type FlattenArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `Flatten`: (batch, ...) to (batch, product). With channels_first the
 * channel axis is moved last first, so the element order matches a
 * channels_last model. A rank-1 input becomes (batch, 1).
 */
export function Flatten(args: FlattenArgs = {}): Layer {
  const c = decodeLayerConfig('Flatten', fields, args);
  const format = dataFormatOf(c.data_format, `Flatten '${c.name}'`);
  const outShape = (s: Shape): Shape => {
    const rest = s.slice(1);
    return [s[0], rest.some((d) => d === null) ? null : rest.reduce<number>((a, b) => a * (b as number), 1)];
  };
  return defineLayer('Flatten', { ...c, data_format: format }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape as Shape) }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      const outputs = ops.tidy(() => {
        let y = x;
        if (format === 'channels_first' && x.rank >= 3) y = ops.transpose(x, [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2), 1]);
        return ops.reshape(y, [x.shape[0], -1]);
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
  });
}
