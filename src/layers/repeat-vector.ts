import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError } from '../core/errors.js';
import { checkRank } from './common.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields = t.type({ n: t.number });
export type RepeatVectorArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** Keras `RepeatVector`: (batch, features) to (batch, n, features). */
export function RepeatVector(args: RepeatVectorArgs): Layer {
  const c = decodeLayerConfig('RepeatVector', fields, args);
  const where = `RepeatVector '${c.name}'`;
  if (!Number.isInteger(c.n) || c.n < 1) throw new ConfigDecodeError('n', 'a positive integer', c.n, where);
  const outShape = (s: Shape): Shape => [s[0], c.n, s[1]];
  return defineLayer('RepeatVector', { ...c, n: c.n }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape as Shape) }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, 2, where);
      return { outputs: ops.tidy(() => ops.tile(ops.expandDims(x, 1), [1, c.n, 1])), state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
  });
}
