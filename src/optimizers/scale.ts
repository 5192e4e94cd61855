import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { TensorTree } from '../core/tree.js';
import { checkNumber, leafAt, mapLeaf, type EmptyState, type GradientTransformation } from './transformation.js';

/** A hyper-parameter value as a transformation sees it: a JS number or a scalar tensor. */
export type Hyper = number | ops.Scalar;

/** Multiplies the updates by `step` (a number or a scalar tensor, which stays the caller's). */
export function scale(step: Hyper): GradientTransformation<EmptyState> {
  if (typeof step === 'number') checkNumber('scale(step)', step);
  return {
    init: () => ({}),
    update: (grads) => ({ updates: mapLeaf(grads, (g) => ops.mul(g, step)), state: {} }),
  };
}

/**
 * Multiplies the updates by `-learningRate` (by `learningRate` with
 * `flipSign: false`): the last step of a descent optimizer.
 */
export function scaleByLearningRate(learningRate: Hyper, { flipSign = true }: { flipSign?: boolean } = {}): GradientTransformation<EmptyState> {
  if (typeof learningRate === 'number') {
    checkNumber('scaleByLearningRate(learningRate)', learningRate);
    return scale(flipSign ? -learningRate : learningRate);
  }
  return {
    init: () => ({}),
    update: (grads) => ({ updates: mapLeaf(grads, (g) => ops.mul(g, flipSign ? ops.neg(learningRate) : learningRate)), state: {} }),
  };
}

/**
 * Adds `weightDecay * params` to the updates (L2 decay applied to the
 * gradients, Optax's `add_decayed_weights`); `update` needs the params.
 */
export function addDecayedWeights(weightDecay: number): GradientTransformation<EmptyState> {
  const wd = checkNumber('addDecayedWeights(weightDecay)', weightDecay, { min: 0 });
  return {
    init: () => ({}),
    update(grads, _state, params?: TensorTree) {
      if (!params) throw new InvalidArgumentError('addDecayedWeights: update(grads, state, params)', 'the params (third argument)', undefined);
      return {
        updates: mapLeaf(grads, (g, path) => ops.add(g, ops.mul(leafAt(params, path, 'params', 'a param for every gradient'), wd))),
        state: {},
      };
    },
  };
}
