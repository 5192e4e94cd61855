/**
 * A Keras optimizer's step as ops/compiled's fused update: every weight's
 * update and its application in one pass, the new slots put back where the
 * optimizer's chain state keeps them.
 */
import { leaves, mapTree, type TensorTree } from '../core/tree.js';
import { fusedApply, type FusedRule } from '../ops/compiled/index.js';
import { findSlots, rebuild, type OptimizerState } from './keras-weights.js';
import { leafAt, type ChainState } from './transformation.js';

/**
 * The new params and state after one step of `rule` over the slots named
 * `slotNames`; undefined (nothing made) where the fused kernels are unavailable.
 */
export function applyFusedRule(
  rule: FusedRule, slotNames: readonly string[], params: TensorTree, grads: TensorTree, state: OptimizerState,
): { params: TensorTree; state: OptimizerState } | undefined {
  const slots = findSlots(state.inner, slotNames, []);
  const items = leaves(params).map(([path, param]) => ({
    path,
    param,
    grad: leafAt(grads, path, 'grads', 'a gradient for every param'),
    slots: Object.fromEntries(slotNames.map((s) => [s, leafAt(slots.trees.get(s)!, path, `state slot '${s}'`, 'a slot for every param')])),
  }));
  const made = fusedApply(rule, items);
  if (!made) return undefined;
  const results = new Map(items.map(({ path }, i) => [path, made[i]]));
  const trees = new Map(slotNames.map((s) => [s, mapTree(params, (_, path) => results.get(path)!.slots[s])]));
  const iterations = state.iterations + 1;
  return {
    params: mapTree(params, (_, path) => results.get(path)!.param),
    state: { iterations, hyperparams: { ...state.hyperparams }, inner: rebuild(state.inner, trees, new Map(), iterations) as ChainState },
  };
}
