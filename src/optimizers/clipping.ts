import * as ops from '../ops/index.js';
import { leaves, type TensorTree } from '../core/tree.js';
import { checkNumber, mapLeaf, type EmptyState, type GradientTransformation } from './transformation.js';

/** Keras `clipvalue`: each gradient element clipped to `[-clipvalue, clipvalue]`. */
export function clipByValue(clipvalue: number): GradientTransformation<EmptyState> {
  const c = checkNumber('clipByValue(clipvalue)', clipvalue, { min: 0 });
  return {
    init: () => ({}),
    update: (grads) => ({ updates: mapLeaf(grads, (g) => ops.clipByValue(g, -c, c)), state: {} }),
  };
}

/**
 * Keras `clipnorm` (`tf.clip_by_norm` per tensor): each gradient tensor whose
 * L2 norm exceeds `clipnorm` is scaled down to that norm.
 */
export function clipByNorm(clipnorm: number): GradientTransformation<EmptyState> {
  const c = checkNumber('clipByNorm(clipnorm)', clipnorm, { min: 0 });
  return {
    init: () => ({}),
    update: (grads) => ({
      updates: mapLeaf(grads, (g) => ops.div(ops.mul(g, c), ops.maximum(ops.sqrt(ops.sum(ops.square(g))), c))),
      state: {},
    }),
  };
}

/** The L2 norm of all leaves together, as a scalar tensor (the caller owns it). */
export function globalNorm(tree: TensorTree): ops.Scalar {
  return ops.tidy(() => {
    const squares = leaves(tree).map(([, g]) => ops.sum(ops.square(g)));
    return ops.sqrt(squares.length === 0 ? ops.scalar(0) : squares.length === 1 ? squares[0] : ops.addN(squares)) as ops.Scalar;
  });
}

/**
 * Keras `global_clipnorm` (`tf.clip_by_global_norm`): all gradients scaled by
 * `maxNorm / max(globalNorm, maxNorm)`, so that their joint L2 norm is at
 * most `maxNorm`.
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<EmptyState> {
  const c = checkNumber('clipByGlobalNorm(maxNorm)', maxNorm, { min: 0 });
  return {
    init: () => ({}),
    update(grads) {
      const factor = ops.tidy(() => ops.div(ops.scalar(c), ops.maximum(globalNorm(grads), c)));
      try {
        return { updates: mapLeaf(grads, (g) => ops.mul(g, factor)), state: {} };
      } finally {
        factor.dispose();
      }
    },
  };
}
