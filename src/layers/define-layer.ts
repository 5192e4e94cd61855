import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { decodeConfig, nullable, shapeCodec } from '../core/config.js';
import { ShapeMismatchError } from '../core/errors.js';
import { uniqueName, toSnakeCase } from '../core/names.js';
import type { TensorTree } from '../core/tree.js';
import { symbolicCall } from './symbolic.js';
import type { Regularizer } from '../regularizers/index.js';
import type { BaseLayerConfig, Layer, Weights } from './layer.js';

/** Keras's keyword arguments common to every layer. */
const baseCodec = t.partial({
  name: t.string,
  trainable: t.boolean,
  dtype: nullable(t.union([t.string, t.type({ class_name: t.string })])),
  batch_input_shape: shapeCodec,
  input_shape: shapeCodec,
  batch_size: nullable(t.number),
  input_dim: t.number,
});

/**
 * Decodes a layer's Keras config: the common keys (a default name such as
 * `dense_1`, `trainable`, `dtype`, `batch_input_shape` from `input_shape` /
 * `batch_size` / `input_dim`) and the layer's own fields with `fields`.
 * Unknown keys are ignored, as Keras ignores them.
 */
export function decodeLayerConfig<F>(className: string, fields: t.Decoder<unknown, F>, raw: unknown): BaseLayerConfig & F {
  const where = `${className} config`;
  const base = decodeConfig(baseCodec, raw ?? {}, where);
  const own = decodeConfig(fields, raw ?? {}, where);
  const batchInputShape =
    base.batch_input_shape ??
    (base.input_shape ? [base.batch_size ?? null, ...base.input_shape] : base.input_dim !== undefined ? [null, base.input_dim] : undefined);
  const config: BaseLayerConfig = {
    name: base.name ?? uniqueName(toSnakeCase(className)),
    trainable: base.trainable ?? true,
    dtype: 'float32',
    ...(batchInputShape ? { batch_input_shape: batchInputShape } : {}),
  };
  const { input_shape: _a, batch_size: _b, input_dim: _c, ...rest } = own as Record<string, unknown>;
  return { ...config, ...rest } as BaseLayerConfig & F;
}

type Impl<C extends BaseLayerConfig, P extends TensorTree, S extends TensorTree> = Omit<
  Layer<C, P, S>,
  'className' | 'name' | 'config' | 'trainable' | 'getConfig' | 'call' | 'callAll'
>;

/** Makes a layer value from its decoded config and its pure functions. */
export function defineLayer<C extends BaseLayerConfig, P extends TensorTree = Weights, S extends TensorTree = Weights>(
  className: string,
  config: C,
  impl: Impl<C, P, S>,
): Layer<C, P, S> {
  const layer: Layer<C, P, S> = {
    className,
    name: config.name,
    config,
    trainable: config.trainable,
    ...impl,
    getConfig: () => ({ ...config, trainable: layer.trainable }),
    call: (inputs) => symbolicCall(layer as unknown as Layer, inputs)[0],
    callAll: (inputs) => symbolicCall(layer as unknown as Layer, inputs),
  };
  return layer;
}

/** Sum of the penalties of the given (regularizer, weight) pairs; null when there are none. */
export function penalty(pairs: [Regularizer | null, ops.Tensor | undefined][]): ops.Scalar | null {
  const terms = pairs.filter((p): p is [Regularizer, ops.Tensor] => p[0] !== null && p[1] !== undefined);
  if (terms.length === 0) return null;
  return ops.tidy(() => ops.addN(terms.map(([r, w]) => r.loss(w))) as ops.Scalar);
}

/** Static (non-null) size of the last axis, which weight shapes depend on. */
export function lastDim(shape: (number | null)[], where: string): number {
  const d = shape[shape.length - 1];
  if (d === null || d === undefined) throw new ShapeMismatchError(where, 'an input whose last dimension is known', shape);
  return d;
}
