import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable, shapeCodec } from '../core/config.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { foldIn } from '../core/rng.js';
import { getInitializer, serializeInitializer } from '../initializers/index.js';
import { getRegularizer, serializeRegularizer, type Regularizer } from '../regularizers/index.js';
import { getConstraint, serializeConstraint } from '../constraints/index.js';
import { dropoutWeights } from './attention.js';
import { spec } from './common.js';
import { decodeLayerConfig, defineLayer, penalty } from './define-layer.js';
import { shapeList, tensorList } from './merge.js';
import type { Layer, Shape, Shapes, Weights } from './layer.js';

const intOrList = t.union([t.number, t.array(t.number)]);
const fields = t.intersection([
  t.type({ num_heads: t.number, key_dim: t.number }),
  t.partial({
    value_dim: nullable(t.number),
    dropout: t.number,
    use_bias: t.boolean,
    output_shape: nullable(intOrList),
    attention_axes: nullable(intOrList),
    kernel_initializer: spec,
    bias_initializer: spec,
    kernel_regularizer: nullable(spec),
    bias_regularizer: nullable(spec),
    activity_regularizer: nullable(spec),
    kernel_constraint: nullable(spec),
    bias_constraint: nullable(spec),
    query_shape: nullable(shapeCodec),
    key_shape: nullable(shapeCodec),
    value_shape: nullable(shapeCodec),
  }),
]);
export type MultiHeadAttentionArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** The projections in tf.keras 2's weight order: EinsumDense sublayers `query`, `key`, `value`, `attention_output`. */
const PROJECTIONS = ['query', 'key', 'value', 'attention_output'] as const;

const prod = (s: readonly number[]) => s.reduce((n, d) => n * d, 1);

/** `x[..., dim] @ kernel[dim, ...out] + bias[...out]`: EinsumDense with one bound dim. */
function project(x: ops.Tensor, kernel: ops.Tensor, bias: ops.Tensor | undefined, bound: number): ops.Tensor {
  const free = x.shape.slice(0, x.rank - bound);
  const inner = prod(x.shape.slice(x.rank - bound));
  const out = kernel.shape.slice(bound);
  let y = ops.matMul(ops.reshape(x, [-1, inner]), ops.reshape(kernel, [inner, prod(out)]));
  if (bias) y = ops.add(y, ops.reshape(bias, [prod(out)]));
  return ops.reshape(y, [...free, ...out]);
}

/**
 * Keras `MultiHeadAttention` (tf.keras 2): inputs `[query, value]` or
 * `[query, value, key]`. Query, key and value are projected to
 * `[..., num_heads, key_dim]` (value: `value_dim`) by EinsumDense sublayers
 * whose kernels are `[dim, heads, key_dim]` and biases `[heads, key_dim]`;
 * the query is scaled by `1 / sqrt(key_dim)`, scores are softmaxed over the
 * key's attention axes (`attention_axes`, default all but batch, heads and
 * features), dropped out in training, combined with the values, and the
 * heads are projected by `attention_output` (kernel `[heads, value_dim, ...output_shape]`,
 * bias `[...output_shape]`; output_shape defaults to the query's last dim).
 * Weights are named `query/kernel`, `query/bias`, ..., `attention_output/bias`,
 * which the HDF5 writer turns into Keras's `<layer>/query/kernel:0`. Input
 * masks (rank-3 inputs) mask the scores as Keras's automatic attention mask;
 * the output mask is the query's.
 */
export function MultiHeadAttention(args: MultiHeadAttentionArgs): Layer {
  const c = decodeLayerConfig('MultiHeadAttention', fields, args);
  const where = `MultiHeadAttention '${c.name}'`;
  const heads = c.num_heads;
  const keyDim = c.key_dim;
  const valueDim = c.value_dim ?? keyDim;
  for (const [k, v] of [['num_heads', heads], ['key_dim', keyDim], ['value_dim', valueDim]] as const)
    if (!Number.isInteger(v) || v < 1) throw new ConfigDecodeError(k, 'a positive integer', v, where);
  const dropout = c.dropout ?? 0;
  if (!(dropout >= 0 && dropout <= 1)) throw new ConfigDecodeError('dropout', 'a number in [0, 1]', c.dropout, where);
  const useBias = c.use_bias ?? true;
  const outputShapeArg = c.output_shape ?? null;
  const attentionAxesArg = c.attention_axes ?? null;
  const kernelInit = getInitializer(c.kernel_initializer ?? 'glorot_uniform', `${where}.kernel_initializer`);
  const biasInit = getInitializer(c.bias_initializer ?? 'zeros', `${where}.bias_initializer`);
  const kernelReg = getRegularizer(c.kernel_regularizer, `${where}.kernel_regularizer`);
  const biasReg = getRegularizer(c.bias_regularizer, `${where}.bias_regularizer`);
  const activityReg = getRegularizer(c.activity_regularizer, `${where}.activity_regularizer`);
  const kernelConstraint = getConstraint(c.kernel_constraint, `${where}.kernel_constraint`);
  const biasConstraint = getConstraint(c.bias_constraint, `${where}.bias_constraint`);
  const config = {
    ...c,
    num_heads: heads,
    key_dim: keyDim,
    value_dim: valueDim,
    dropout,
    use_bias: useBias,
    output_shape: outputShapeArg,
    attention_axes: typeof attentionAxesArg === 'number' ? [attentionAxesArg] : attentionAxesArg,
    kernel_initializer: serializeInitializer(kernelInit),
    bias_initializer: serializeInitializer(biasInit),
    kernel_regularizer: serializeRegularizer(kernelReg),
    bias_regularizer: serializeRegularizer(biasReg),
    activity_regularizer: serializeRegularizer(activityReg),
    kernel_constraint: serializeConstraint(kernelConstraint),
    bias_constraint: serializeConstraint(biasConstraint),
    query_shape: c.query_shape ?? null,
    key_shape: c.key_shape ?? null,
    value_shape: c.value_shape ?? null,
  };

  /** The shapes [query, value, key] (key defaults to value), with checks. */
  const unpack = <S extends readonly (number | null)[]>(shapes: S[]): [S, S, S] => {
    const [q, v] = shapes;
    const k = shapes[2] ?? v;
    if (q.length < 3 || v.length !== q.length || k.length !== q.length)
      throw new ShapeMismatchError(`${where}: [query, value, key?]`, 'inputs of the same rank >= 3 (batch, ..., dim)', shapes.map((s) => `[${s.join(', ')}]`).join(' / '));
    return [q, v, k];
  };
  const outDims = (queryShape: readonly (number | null)[]): number[] => {
    if (outputShapeArg !== null) return typeof outputShapeArg === 'number' ? [outputShapeArg] : outputShapeArg;
    const d = queryShape[queryShape.length - 1];
    if (d === null) throw new ShapeMismatchError(where, 'a query whose last dimension is known', [...queryShape]);
    return [d];
  };
  /** Attention axes of the projected tensors (rank = input rank + 1), Keras's default when null. */
  const attentionAxes = (inputRank: number): number[] => {
    const r = inputRank + 1;
    const axes = attentionAxesArg === null ? Array.from({ length: r - 3 }, (_, i) => i + 1) : (typeof attentionAxesArg === 'number' ? [attentionAxesArg] : attentionAxesArg).map((a) => (a < 0 ? a + r : a));
    if (axes.length === 0 || axes.some((a) => !Number.isInteger(a) || a < 1 || a >= r - 2) || new Set(axes).size !== axes.length)
      throw new ConfigDecodeError('attention_axes', `distinct axes in [1, ${r - 2}) for rank-${inputRank} inputs`, attentionAxesArg, where);
    return axes;
  };
  const outShape = (s: Shapes): Shape => {
    const [q] = unpack(shapeList(s, where, 2, 3));
    attentionAxes(q.length);
    return [...q.slice(0, -1), ...outDims(q)];
  };
  const dimOf = (s: Shape, what: string): number => {
    const d = s[s.length - 1];
    if (d === null) throw new ShapeMismatchError(`${where}: ${what}`, 'a known last dimension', s);
    return d;
  };
  const activity = (r: Regularizer, y: ops.Tensor) => ops.tidy(() => ops.div(r.loss(y), y.shape[0]) as ops.Scalar);

  return defineLayer('MultiHeadAttention', config, {
    init(key, inputShape) {
      const [q, v, k] = unpack(shapeList(inputShape, where, 2, 3));
      const out = outDims(q);
      attentionAxes(q.length);
      const shapes: Record<(typeof PROJECTIONS)[number], [number[], number[]]> = {
        query: [[dimOf(q, 'query'), heads, keyDim], [heads, keyDim]],
        key: [[dimOf(k, 'key'), heads, keyDim], [heads, keyDim]],
        value: [[dimOf(v, 'value'), heads, valueDim], [heads, valueDim]],
        attention_output: [[heads, valueDim, ...out], out],
      };
      const params: Weights = {};
      for (const p of PROJECTIONS) {
        params[`${p}/kernel`] = kernelInit.init(foldIn(key, `${p}/kernel`), shapes[p][0]);
        if (useBias) params[`${p}/bias`] = biasInit.init(foldIn(key, `${p}/bias`), shapes[p][1]);
      }
      return { params, state: {}, outputShape: [...q.slice(0, -1), ...out] };
    },
    apply(params, state, inputs, options) {
      const xs = tensorList(inputs, where, 2, 3);
      const [query, value, keyIn] = unpack(xs.map((x) => x.shape)).map((_, i) => (i === 2 ? (xs[2] ?? xs[1]) : xs[i]));
      const masks = Array.isArray(options.mask) ? options.mask : [];
      const losses: ops.Scalar[] = [];
      const outputs = ops.tidy(() => {
        const proj = (name: string, x: ops.Tensor, bound = 1) => {
          const y = project(x, params[`${name}/kernel`], params[`${name}/bias`], bound);
          if (options.training && activityReg) losses.push(ops.keep(activity(activityReg, y)));
          return y;
        };
        const qp = ops.mul(proj('query', query), 1 / Math.sqrt(keyDim));
        const kp = proj('key', keyIn);
        const vp = proj('value', value);
        const r = qp.rank;
        const axes = attentionAxes(query.rank);
        const batchAxes = Array.from({ length: r - 2 }, (_, i) => i).filter((i) => !axes.includes(i));
        const perm = [...batchAxes, r - 2, ...axes, r - 1];
        const flat = (x: ops.Tensor) => {
          const tx = ops.transpose(x, perm);
          const nb = batchAxes.length + 1;
          return ops.reshape(tx, [prod(tx.shape.slice(0, nb)), prod(tx.shape.slice(nb, -1)), tx.shape[tx.rank - 1]]) as ops.Tensor3D;
        };
        let scores = ops.matMul(flat(qp), flat(kp), false, true);
        // Keras's automatic attention mask: query mask [B, T, 1] & value/key masks [B, 1, S].
        const [qm, vm, km] = [masks[0] ?? null, masks[1] ?? null, xs[2] ? (masks[2] ?? null) : null];
        if ((qm || vm || km) && query.rank === 3 && attentionAxesArg === null) {
          const [b, tq, ts] = [query.shape[0], query.shape[1], keyIn.shape[1]] as number[];
          let allowed: ops.Tensor = ops.ones([b, tq, ts]);
          if (qm) allowed = ops.mul(allowed, ops.reshape(ops.cast(qm, 'float32'), [b, tq, 1]));
          for (const m of [vm, km]) if (m) allowed = ops.mul(allowed, ops.reshape(ops.cast(m, 'float32'), [b, 1, ts]));
          const adder = ops.mul(ops.sub(1, allowed), -1e9);
          scores = ops.add(scores, ops.reshape(ops.tile(ops.expandDims(adder, 1), [1, heads, 1, 1]), scores.shape));
        }
        const probs = dropoutWeights(ops.softmax(scores), dropout, options, null, where);
        const ctx = ops.matMul(probs, flat(vp));
        // Back to [batch..., heads, query attention dims..., value_dim], then the input layout.
        const tq = ops.transpose(qp, perm).shape;
        const unflat = ops.reshape(ctx, [...tq.slice(0, -1), valueDim]);
        const inverse = perm.map((_, i) => perm.indexOf(i));
        const attended = ops.transpose(unflat, inverse);
        const y = proj('attention_output', attended, 2);
        return y;
      });
      return { outputs, state, ...(losses.length > 0 ? { losses } : {}) };
    },
    computeOutputShape: outShape,
    computeMask: (_inputs, mask) => (Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null)),
    regularization: (p) => penalty(PROJECTIONS.flatMap((n) => [[kernelReg, p[`${n}/kernel`]], [biasReg, p[`${n}/bias`]]] as [Regularizer | null, ops.Tensor | undefined][])),
    activityRegularization: activityReg ? (y) => activityReg.loss(y as ops.Tensor) : undefined,
    constrain:
      kernelConstraint || biasConstraint
        ? (p) =>
            Object.fromEntries(
              Object.entries(p).map(([k, w]) => {
                const cst = k.endsWith('/kernel') ? kernelConstraint : biasConstraint;
                return [k, cst ? cst.apply(w) : w];
              }),
            )
        : undefined,
  });
}
