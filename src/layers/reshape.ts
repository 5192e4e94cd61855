import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields = t.type({ target_shape: t.array(t.number) });
export type ReshapeArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** Keras `Reshape`: (batch, ...) to (batch, ...target_shape); one entry may be -1. */
export function Reshape(args: ReshapeArgs): Layer {
  const c = decodeLayerConfig('Reshape', fields, args);
  const where = `Reshape '${c.name}'`;
  const target = c.target_shape;
  if (target.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)) || target.filter((d) => d === -1).length > 1)
    throw new ConfigDecodeError('target_shape', 'positive integers with at most one -1', target, where);
  const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);

  /** Keras's `_fix_unknown_dimension`, with the input's per-sample size (null when unknown). */
  const outShape = (s: Shape): Shape => {
    const rest = s.slice(1);
    const size = rest.some((d) => d === null) ? null : rest.reduce<number>((a, b) => a * (b as number), 1);
    if (size === null) return [s[0], ...target.map((d) => (d === -1 ? null : d))];
    const unknown = target.indexOf(-1);
    if (unknown === -1 ? size !== known : size % known !== 0)
      throw new ShapeMismatchError(`${where}: total size of the new array must be unchanged`, `a sample of ${target.join('x')}`, s);
    return [s[0], ...target.map((d) => (d === -1 ? size / known : d))];
  };
  return defineLayer('Reshape', { ...c, target_shape: target }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape as Shape) }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      const shape = outShape(x.shape) as number[];
      return { outputs: ops.reshape(x, shape), state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
  });
}
