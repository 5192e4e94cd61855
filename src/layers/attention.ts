import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { foldIn } from '../core/rng.js';
import { getInitializer } from '../initializers/index.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import { shapeList, tensorList } from './merge.js';
import { noiseSeed } from './noise-key.js';
import type { ApplyOptions, BaseLayerConfig, Layer, Shape, Shapes, Weights } from './layer.js';

/** tf.keras 2's `BaseDenseAttention` keys: `dropout`, and the deprecated `causal` (now a call argument). */
const baseFields = t.partial({ dropout: t.number, causal: t.boolean });

/** Keras's `tf.nn.dropout` on the attention weights (kept ones scaled by 1 / (1 - rate)). */
export function dropoutWeights(w: ops.Tensor, rate: number, options: ApplyOptions, seed: number | null, where: string): ops.Tensor {
  if (!options.training || rate <= 0) return w;
  if (rate >= 1) return ops.zerosLike(w);
  const s = noiseSeed(options, seed, where);
  return ops.tidy(() => ops.mul(ops.mul(w, 1 / (1 - rate)), ops.cast(ops.greaterEqual(ops.randomUniform(w.shape, 0, 1, 'float32', s), rate), 'float32')));
}

/**
 * tf.keras 2's `BaseDenseAttention.call` around a score function: inputs
 * `[query, value]` or `[query, value, key]` (key defaults to value); scores
 * `[batch, Tq, Tv]` get `-1e9` where the value mask is false (and above the
 * diagonal when causal), then softmax, dropout (training), `weights @ value`,
 * and rows where the query mask is false are zeroed. The output mask is the
 * query's mask.
 */
function denseAttention<C extends { name: string; trainable: boolean; dtype: string; dropout: number; [k: string]: unknown }>(
  className: string,
  config: C,
  causal: boolean,
  build: (shapes: Shape[]) => { init: (key: number) => Weights },
  scores: (params: Weights, q: ops.Tensor, k: ops.Tensor) => ops.Tensor,
): Layer {
  const where = `${className} '${config.name}'`;
  const outShape = (s: Shapes): Shape => {
    const shapes = shapeList(s, where, 2, 3);
    const [q, v] = shapes;
    const k = shapes[2] ?? v;
    if (q.length < 2 || v.length !== q.length || k.length !== q.length)
      throw new ShapeMismatchError(`${where}: [query, value, key?]`, 'inputs of the same rank (batch, T, dim)', shapes.map((x) => x.length).join(' / '));
    return [...q.slice(0, -1), v[v.length - 1]];
  };
  return defineLayer(className, config, {
    init(key, inputShape) {
      const shapes = shapeList(inputShape, where, 2, 3);
      const outputShape = outShape(shapes);
      return { params: build(shapes).init(key), state: {}, outputShape };
    },
    apply(params, state, inputs, options) {
      const xs = tensorList(inputs, where, 2, 3);
      outShape(xs.map((x) => x.shape));
      const [q, v] = xs;
      const k = xs[2] ?? v;
      const masks = Array.isArray(options.mask) ? options.mask : [];
      const qMask = masks[0] ?? null;
      const vMask = masks[1] ?? null;
      const outputs = ops.tidy(() => {
        let s = scores(params, q, k);
        let allowed: ops.Tensor | null = vMask ? ops.expandDims(ops.cast(vMask, 'float32'), -2) : null;
        if (causal) {
          const [tq, tv] = s.shape.slice(-2);
          const row = ops.reshape(ops.range(0, tq, 1, 'int32'), [tq, 1]);
          const col = ops.reshape(ops.range(0, tv, 1, 'int32'), [1, tv]);
          const tri = ops.cast(ops.greaterEqual(row, col), 'float32');
          allowed = allowed ? ops.mul(allowed, tri) : tri;
        }
        if (allowed) s = ops.sub(s, ops.mul(1e9, ops.sub(1, allowed)));
        const w = dropoutWeights(ops.softmax(s), config.dropout, options, null, where);
        let y = ops.matMul(w, v);
        if (qMask) y = ops.mul(y, ops.expandDims(ops.cast(qMask, y.dtype), -1));
        return y;
      });
      return { outputs, state };
    },
    computeOutputShape: outShape,
    computeMask: (_inputs, mask) => (Array.isArray(mask) ? (mask[0] ?? null) : null),
  });
}

const attentionFields = t.intersection([baseFields, t.partial({ use_scale: t.boolean, score_mode: t.string })]);
export type AttentionArgs = t.TypeOf<typeof attentionFields> & Record<string, unknown>;

function baseConfig<C extends BaseLayerConfig & { dropout?: number; causal?: boolean }>(c: C, where: string) {
  const dropout = c.dropout ?? 0;
  if (!(dropout >= 0 && dropout <= 1)) throw new ConfigDecodeError('dropout', 'a number in [0, 1]', c.dropout, where);
  const rest: BaseLayerConfig & { dropout: number } = { ...c, dropout };
  delete rest.causal;
  delete rest.seed;
  // `causal` was a config key before tf.keras 2.10; it is kept only when set.
  return { rest, causal: c.causal ?? false, causalKey: c.causal ? { causal: true } : {} };
}

/**
 * Keras `Attention` (Luong-style dot-product attention, tf.keras 2):
 * `score_mode` 'dot' scores `query @ key^T` (times the scalar `scale` when
 * `use_scale`); 'concat' scores `concat_score_weight * sum(tanh(scale * (q + k)))`.
 * Weights `scale` (shape [], ones) when `use_scale` and `concat_score_weight`
 * (shape [], ones) in 'concat' mode.
 */
export function Attention(args: AttentionArgs = {}): Layer {
  const c = decodeLayerConfig('Attention', attentionFields, args);
  const where = `Attention '${c.name}'`;
  const useScale = c.use_scale ?? false;
  const scoreMode = c.score_mode ?? 'dot';
  if (scoreMode !== 'dot' && scoreMode !== 'concat') throw new ConfigDecodeError('score_mode', "'dot' or 'concat'", scoreMode, where);
  const { rest, causal, causalKey } = baseConfig(c, where);
  const config = { ...rest, ...causalKey, use_scale: useScale, score_mode: scoreMode };
  return denseAttention(
    'Attention',
    config,
    causal,
    () => ({
      init: () => {
        const p: Weights = {};
        if (useScale) p.scale = ops.ones([]);
        if (scoreMode === 'concat') p.concat_score_weight = ops.ones([]);
        return p;
      },
    }),
    (params, q, k) => {
      if (scoreMode === 'dot') {
        const s = ops.matMul(q, k, false, true);
        return useScale ? ops.mul(s, params.scale) : s;
      }
      let sum = ops.add(ops.expandDims(q, -2), ops.expandDims(k, -3));
      if (useScale) sum = ops.mul(params.scale, sum);
      return ops.mul(params.concat_score_weight, ops.sum(ops.tanh(sum), -1));
    },
  );
}

const additiveFields = t.intersection([baseFields, t.partial({ use_scale: t.boolean })]);
export type AdditiveAttentionArgs = t.TypeOf<typeof additiveFields> & Record<string, unknown>;

/**
 * Keras `AdditiveAttention` (Bahdanau-style, tf.keras 2): scores
 * `sum(scale * tanh(q[:, :, None] + k[:, None]), -1)` with the weight `scale`
 * of shape [dim] (glorot_uniform) when `use_scale` (the default).
 */
export function AdditiveAttention(args: AdditiveAttentionArgs = {}): Layer {
  const c = decodeLayerConfig('AdditiveAttention', additiveFields, args);
  const where = `AdditiveAttention '${c.name}'`;
  const useScale = c.use_scale ?? true;
  const { rest, causal, causalKey } = baseConfig(c, where);
  const config = { ...rest, ...causalKey, use_scale: useScale };
  const glorot = getInitializer('glorot_uniform', `${where}.scale`);
  return denseAttention(
    'AdditiveAttention',
    config,
    causal,
    (shapes) => ({
      init: (key): Weights => {
        const dim = shapes[1][shapes[1].length - 1];
        if (dim === null) throw new ShapeMismatchError(where, 'a value input whose last dimension is known', shapes[1]);
        const p: Weights = {};
        if (useScale) p.scale = glorot.init(foldIn(key, 'scale'), [dim]);
        return p;
      },
    }),
    (params, q, k) => {
      const th = ops.tanh(ops.add(ops.expandDims(q, -2), ops.expandDims(k, -3)));
      return ops.sum(useScale ? ops.mul(params.scale, th) : th, -1);
    },
  );
}
