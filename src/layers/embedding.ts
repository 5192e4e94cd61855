import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { decodeConfig, nullable } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { foldIn } from '../core/rng.js';
import { getInitializer, serializeInitializer } from '../initializers/index.js';
import { getRegularizer, serializeRegularizer } from '../regularizers/index.js';
import { getConstraint, serializeConstraint } from '../constraints/index.js';
import { spec } from './common.js';
import { decodeLayerConfig, defineLayer, penalty } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields = t.intersection([
  t.type({ input_dim: t.number, output_dim: t.number }),
  t.partial({
    embeddings_initializer: spec,
    embeddings_regularizer: nullable(spec),
    activity_regularizer: nullable(spec),
    embeddings_constraint: nullable(spec),
    mask_zero: t.boolean,
    input_length: nullable(t.union([t.number, t.array(nullable(t.number))])),
  }),
]);
export type EmbeddingArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `Embedding`: integer indices (batch, ...) to vectors (batch, ..., output_dim)
 * looked up in `embeddings` (input_dim, output_dim). Float indices are
 * truncated to int32, as Keras casts them. With `mask_zero`, index 0 is
 * padding and `computeMask` returns `inputs != 0`. As in Keras, the layer's
 * `batch_input_shape` defaults to (null, input_length).
 */
export function Embedding(args: EmbeddingArgs): Layer {
  // `input_dim` is Embedding's own vocabulary size here, not the base layer's shorthand for an input shape.
  const { input_dim: _inputDim, ...baseArgs } = (args ?? {}) as Record<string, unknown>;
  const c = decodeLayerConfig('Embedding', t.partial({}), baseArgs);
  const where = `Embedding '${c.name}'`;
  const own = decodeConfig(fields, args ?? {}, `${where} config`);
  if (!Number.isInteger(own.input_dim) || own.input_dim < 1) throw new ConfigDecodeError('input_dim', 'a positive integer', own.input_dim, where);
  if (!Number.isInteger(own.output_dim) || own.output_dim < 1) throw new ConfigDecodeError('output_dim', 'a positive integer', own.output_dim, where);
  const init = getInitializer(own.embeddings_initializer ?? 'uniform', `${where}.embeddings_initializer`);
  const reg = getRegularizer(own.embeddings_regularizer, `${where}.embeddings_regularizer`);
  const activityReg = getRegularizer(own.activity_regularizer, `${where}.activity_regularizer`);
  const constraint = getConstraint(own.embeddings_constraint, `${where}.embeddings_constraint`);
  const maskZero = own.mask_zero ?? false;
  const inputLength = own.input_length ?? null;
  const lengths = inputLength === null ? [null] : typeof inputLength === 'number' ? [inputLength] : inputLength;
  const config = {
    ...c,
    batch_input_shape: c.batch_input_shape ?? [null, ...lengths],
    input_dim: own.input_dim,
    output_dim: own.output_dim,
    embeddings_initializer: serializeInitializer(init),
    embeddings_regularizer: serializeRegularizer(reg),
    activity_regularizer: serializeRegularizer(activityReg),
    embeddings_constraint: serializeConstraint(constraint),
    mask_zero: maskZero,
    input_length: inputLength,
  };
  const outShape = (s: Shape): Shape => [...s, own.output_dim];
  return defineLayer('Embedding', config, {
    init: (key, inputShape) => ({
      params: { embeddings: init.init(foldIn(key, 'embeddings'), [own.input_dim, own.output_dim]) },
      state: {},
      outputShape: outShape(inputShape as Shape),
    }),
    apply(params, state, inputs) {
      const x = inputs as ops.Tensor;
      const outputs = ops.tidy(() => {
        const indices = x.dtype === 'int32' ? x : ops.cast(x, 'int32');
        const flat = ops.gather(params.embeddings, ops.reshape(indices, [-1]));
        return ops.reshape(flat, [...x.shape, own.output_dim]);
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
    computeMask: (inputs) => (maskZero ? ops.notEqual(inputs as ops.Tensor, 0) : null),
    regularization: (p) => penalty([[reg, p.embeddings]]),
    activityRegularization: activityReg ? (y) => activityReg.loss(y as ops.Tensor) : undefined,
    constrain: constraint ? (p) => ({ ...p, embeddings: constraint.apply(p.embeddings) }) : undefined,
  });
}
