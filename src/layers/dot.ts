import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import { shapeList, tensorList } from './merge.js';
import type { Layer, Shape, Shapes } from './layer.js';

const fields = t.intersection([t.type({ axes: t.union([t.number, t.array(t.number)]) }), t.partial({ normalize: t.boolean })]);
export type DotArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** `tf.linalg.l2_normalize`: x / sqrt(max(sum(x^2), 1e-12)) along `axis`. */
function l2Normalize(x: ops.Tensor, axis: number): ops.Tensor {
  return ops.mul(x, ops.rsqrt(ops.maximum(ops.sum(ops.square(x), axis, true), 1e-12)));
}

/**
 * Keras `backend.batch_dot`: for each sample, contracts axis `a` of `x` with
 * axis `b` of `y`; the output has x's other dims then y's other dims (no
 * batch); a rank-1 result gets a trailing 1.
 */
export function batchDot(x: ops.Tensor, y: ops.Tensor, a: number, b: number): ops.Tensor {
  return ops.tidy(() => {
    const xRest = x.shape.filter((_, i) => i !== 0 && i !== a);
    const yRest = y.shape.filter((_, i) => i !== 0 && i !== b);
    const batch = x.shape[0];
    const xt = ops.transpose(x, [0, ...xRest.map((_, i) => i).map((i) => (i + 1 >= a ? i + 2 : i + 1)), a]);
    const yt = ops.transpose(y, [0, b, ...yRest.map((_, i) => i).map((i) => (i + 1 >= b ? i + 2 : i + 1))]);
    const size = (s: number[]) => s.reduce((n, d) => n * d, 1);
    const prod = ops.matMul(
      ops.reshape(xt, [batch, size(xRest), x.shape[a]]) as ops.Tensor3D,
      ops.reshape(yt, [batch, y.shape[b], size(yRest)]) as ops.Tensor3D,
    );
    const out = [batch, ...xRest, ...yRest];
    return ops.reshape(prod, out.length === 1 ? [batch, 1] : out);
  });
}

/**
 * Keras `Dot`: the per-sample dot product of two inputs along `axes` (one
 * axis for both, or one per input; negative counts from the end; the batch
 * axis cannot be contracted). With `normalize`, both inputs are
 * L2-normalised along their axis first (cosine proximity). No output mask.
 */
export function Dot(args: DotArgs): Layer {
  const c = decodeLayerConfig('Dot', fields, args);
  const where = `Dot '${c.name}'`;
  const axesArg = c.axes;
  if (Array.isArray(axesArg) ? axesArg.length !== 2 || axesArg.some((a) => !Number.isInteger(a)) : !Number.isInteger(axesArg))
    throw new ConfigDecodeError('axes', 'an integer or a list of two integers', axesArg, where);
  const config = { ...c, axes: axesArg, normalize: c.normalize ?? false };
  const mod = (a: number, n: number) => ((a % n) + n) % n;
  const axesFor = (r1: number, r2: number): [number, number] => {
    const [a, b] = Array.isArray(axesArg) ? axesArg : [axesArg, axesArg];
    const res: [number, number] = [a < 0 ? mod(a, r1) : a, b < 0 ? mod(b, r2) : b];
    if (res[0] === 0 || res[1] === 0 || res[0] >= r1 || res[1] >= r2)
      throw new ShapeMismatchError(`${where}: axes ${JSON.stringify(axesArg)}`, 'non-batch axes of the inputs', `ranks ${r1} and ${r2}`);
    return res;
  };
  const outShape = (s: Shapes): Shape => {
    const [s1, s2] = shapeList(s, where, 2, 2);
    if (s1.length < 2 || s2.length < 2) throw new ShapeMismatchError(`${where}: inputs`, 'rank >= 2', s1.length < 2 ? s1 : s2);
    const [a, b] = axesFor(s1.length, s2.length);
    if (s1[a] !== null && s2[b] !== null && s1[a] !== s2[b])
      throw new ShapeMismatchError(`${where}: incompatible input shapes (axis ${a} of the first, ${b} of the second)`, s1, s2);
    const out = [...s1.filter((_, i) => i !== a), ...s2.filter((_, i) => i !== 0 && i !== b)];
    return out.length === 1 ? [...out, 1] : out;
  };
  return defineLayer('Dot', config, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape) }),
    apply(_params, state, inputs) {
      const [x, y] = tensorList(inputs, where, 2, 2);
      outShape([x.shape, y.shape]);
      const [a, b] = axesFor(x.rank, y.rank);
      const outputs = ops.tidy(() =>
        config.normalize ? batchDot(l2Normalize(x, a), l2Normalize(y, b), a, b) : batchDot(x, y, a, b),
      );
      return { outputs, state };
    },
    computeOutputShape: outShape,
    computeMask: () => null,
  });
}
