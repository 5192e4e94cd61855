import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { foldIn } from '../core/rng.js';
import { getInitializer, serializeInitializer } from '../initializers/index.js';
import { getRegularizer, serializeRegularizer } from '../regularizers/index.js';
import { getConstraint, serializeConstraint } from '../constraints/index.js';
import { spec } from './common.js';
import { decodeLayerConfig, defineLayer, penalty } from './define-layer.js';
import type { Layer, Shape } from './layer.js';

const fields = t.partial({
  alpha_initializer: spec,
  alpha_regularizer: nullable(spec),
  alpha_constraint: nullable(spec),
  shared_axes: nullable(t.union([t.number, t.array(t.number)])),
});
export type PReLUArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `PReLU`: `relu(x) - alpha * relu(-x)` with a learned `alpha` of the
 * input's per-sample shape, size 1 on the `shared_axes` (1-based, counting
 * the batch axis as 0, as Keras).
 */
export function PReLU(args: PReLUArgs = {}): Layer {
  const c = decodeLayerConfig('PReLU', fields, args);
  const where = `PReLU '${c.name}'`;
  const init = getInitializer(c.alpha_initializer ?? 'zeros', `${where}.alpha_initializer`);
  const reg = getRegularizer(c.alpha_regularizer, `${where}.alpha_regularizer`);
  const constraint = getConstraint(c.alpha_constraint, `${where}.alpha_constraint`);
  const shared = c.shared_axes === null || c.shared_axes === undefined ? null : typeof c.shared_axes === 'number' ? [c.shared_axes] : c.shared_axes;
  if (shared && shared.some((a) => !Number.isInteger(a) || a < 1))
    throw new ConfigDecodeError('shared_axes', 'null or positive axis indices (the batch axis is 0)', shared, where);
  const config = {
    ...c,
    alpha_initializer: serializeInitializer(init),
    alpha_regularizer: serializeRegularizer(reg),
    alpha_constraint: serializeConstraint(constraint),
    shared_axes: shared,
  };
  return defineLayer('PReLU', config, {
    init(key, inputShape) {
      const s = inputShape as Shape;
      if (shared && shared.some((a) => a >= s.length)) throw new ShapeMismatchError(`${where}: shared_axes ${shared.join(', ')}`, `an input of rank > ${Math.max(...shared)}`, s);
      const shape = s.slice(1).map((d, i) => (shared?.includes(i + 1) ? 1 : d));
      if (shape.some((d) => d === null)) throw new ShapeMismatchError(where, 'an input whose non-shared dims are known', s);
      return { params: { alpha: init.init(foldIn(key, 'alpha'), shape as number[]) }, state: {}, outputShape: s };
    },
    apply(params, state, inputs) {
      const x = inputs as ops.Tensor;
      const outputs = ops.tidy(() => ops.sub(ops.relu(x), ops.mul(params.alpha, ops.relu(ops.neg(x)))));
      return { outputs, state };
    },
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
    regularization: (p) => penalty([[reg, p.alpha]]),
    constrain: constraint ? (p) => ({ ...p, alpha: constraint.apply(p.alpha) }) : undefined,
  });
}
