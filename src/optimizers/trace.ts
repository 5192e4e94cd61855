import * as ops from '../ops/index.js';
import { mapTree, type TensorTree } from '../core/tree.js';
import { checkNumber, mapLeaves, slotAt, type GradientTransformation } from './transformation.js';

/** The velocity per parameter (Keras's `momentum` slot). */
export interface TraceState {
  momentum: TensorTree;
}

export interface TraceOptions {
  /** Momentum coefficient (Keras `momentum`), in [0, 1]. */
  decay: number;
  nesterov?: boolean;
}

/**
 * Momentum: `momentum = decay * momentum + u`; the update is `momentum`, or
 * `decay * momentum + u` with Nesterov. Placed after
 * `scaleByLearningRate(lr)` it is exactly tf.keras 2's SGD momentum
 * (`ResourceApplyKerasMomentum`, velocity in learning-rate units), and the
 * slot holds the same numbers as Keras's `momentum` slot.
 */
export function trace({ decay, nesterov = false }: TraceOptions): GradientTransformation<TraceState> {
  checkNumber('trace({ decay })', decay, { min: 0, max: 1 });
  return {
    init: (params) => ({ momentum: mapTree(params, (p) => ops.zerosLike(p)) }),
    update(grads, state) {
      const r = mapLeaves(grads, ['updates', 'momentum'], (u, path) => {
        const m = ops.add(ops.mul(slotAt(state.momentum, path, 'momentum'), decay), u);
        return { momentum: m, updates: nesterov ? ops.add(ops.mul(m, decay), u) : ops.clone(m) };
      });
      return { updates: r.updates, state: { momentum: r.momentum } };
    },
  };
}
