import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import { shapeList, tensorList } from './merge.js';
import type { Layer, Shape, Shapes } from './layer.js';

const fields = t.partial({ axis: t.number });
export type ConcatenateArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `Concatenate`: joins a list of inputs along `axis` (default -1); the
 * other dims must agree (unknown ones are not compared). The output mask
 * concatenates the inputs' masks (all true for an unmasked input) and reduces
 * the feature axis with AND, as Keras does.
 */
export function Concatenate(args: ConcatenateArgs = {}): Layer {
  const c = decodeLayerConfig('Concatenate', fields, args);
  const where = `Concatenate '${c.name}'`;
  const axis = c.axis ?? -1;
  if (!Number.isInteger(axis)) throw new ConfigDecodeError('axis', 'an integer', axis, where);
  const config = { ...c, axis };
  const norm = (rank: number) => {
    const a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) throw new ShapeMismatchError(`${where}: axis ${axis}`, `inputs of rank > ${axis < 0 ? -axis - 1 : axis}`, `rank ${rank}`);
    return a;
  };
  const outShape = (s: Shapes): Shape => {
    const shapes = shapeList(s, where, 1);
    const rank = shapes[0].length;
    if (shapes.some((x) => x.length !== rank)) throw new ShapeMismatchError(`${where}: inputs must have the same rank`, shapes[0], shapes.find((x) => x.length !== rank)!);
    const a = norm(rank);
    for (let i = 0; i < rank; i++) {
      if (i === a) continue;
      const known = new Set(shapes.map((x) => x[i]).filter((d) => d !== null));
      if (known.size > 1)
        throw new ShapeMismatchError(`${where}: inputs must match except on the concatenation axis ${axis}`, shapes[0], shapes.find((x) => x[i] !== shapes[0][i] && x[i] !== null) ?? shapes[1]);
    }
    const out = [...shapes[0]];
    out[a] = shapes.some((x) => x[a] === null) ? null : shapes.reduce((n, x) => n + (x[a] as number), 0);
    return out;
  };
  return defineLayer('Concatenate', config, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape) }),
    apply(_params, state, inputs) {
      const xs = tensorList(inputs, where, 1);
      outShape(xs.map((x) => x.shape));
      const outputs = xs.length === 1 ? ops.clone(xs[0]) : ops.concat(xs, norm(xs[0].rank));
      return { outputs, state };
    },
    computeOutputShape: outShape,
    computeMask(inputs, mask) {
      if (!mask || !Array.isArray(mask) || mask.every((m) => !m)) return null;
      const xs = tensorList(inputs, where, 1);
      return ops.tidy(() => {
        const full = xs.map((x, i) => {
          const m = mask[i];
          if (!m) return ops.ones(x.shape, 'bool');
          const e = m.rank < x.rank ? ops.expandDims(m, -1) : m;
          return ops.cast(ops.broadcastTo(ops.cast(e, 'int32'), x.shape), 'bool');
        });
        return ops.all(ops.concat(full, norm(xs[0].rank)), -1);
      });
    },
  });
}
