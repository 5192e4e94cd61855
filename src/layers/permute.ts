import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError } from '../core/errors.js';
import { checkRank } from './common.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields = t.type({ dims: t.array(t.number) });
export type PermuteArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** Keras `Permute`: reorders the non-batch axes; `dims` is a permutation of 1..n (1-indexed, the batch axis stays). */
export function Permute(args: PermuteArgs): Layer {
  const c = decodeLayerConfig('Permute', fields, args);
  const where = `Permute '${c.name}'`;
  const dims = c.dims;
  const sorted = [...dims].sort((a, b) => a - b);
  if (sorted.some((d, i) => d !== i + 1)) throw new ConfigDecodeError('dims', `a permutation of 1..${dims.length}`, dims, where);
  const outShape = (s: Shape): Shape => [s[0], ...dims.map((d) => s[d])];
  return defineLayer('Permute', { ...c, dims }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape as Shape) }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, dims.length + 1, where);
      return { outputs: ops.transpose(x, [0, ...dims]), state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
  });
}
