import * as ops from '../ops/index.js';
import { InvalidArgumentError, RxKerasError, ShapeMismatchError, describe } from '../core/errors.js';
import { isTensor, mapTree, sameShape, type TensorTree } from '../core/tree.js';

/**
 * A gradient transformation, as in Optax: `init` builds the state for a
 * parameter tree, `update` maps gradients (and the state, and optionally the
 * current params) to updates and a new state. Updates are ADDED to the params
 * with {@link applyUpdates}, so a descent step yields negative updates.
 *
 * Ownership: `init` and `update` never dispose what they are given and every
 * tensor they return is new (at worst a clone). The caller owns the returned
 * `updates` and `state`; after an `update` the old state is still the
 * caller's, who disposes it (`disposeState`, the pytree's `disposeTree`) once it is no longer
 * wanted (usually right after the step). `updates` has the structure of
 * `grads`; state trees have the structure of the params given to `init`.
 */
export interface GradientTransformation<S = unknown> {
  init(params: TensorTree): S;
  update(grads: TensorTree, state: S, params?: TensorTree): TransformResult<S>;
}

export interface TransformResult<S> {
  updates: TensorTree;
  state: S;
}

/** The state of a transformation that keeps none. */
export type EmptyState = Record<string, never>;

/** The state of a `chain`: one state per transformation, in order. */
export type ChainState = unknown[];

/** Raised for a badly formed `chain(...)` call or a state that did not come from that chain. */
export class ChainError extends RxKerasError {}

/** A transformation that changes nothing: updates are (clones of) the gradients. */
export function identity(): GradientTransformation<EmptyState> {
  return {
    init: () => ({}),
    update: (grads) => ({ updates: mapTree(grads, (g) => ops.clone(g)), state: {} }),
  };
}

/**
 * Applies transformations one after the other: the updates of each are the
 * gradients of the next. The state is the array of their states.
 */
export function chain(...transforms: GradientTransformation<any>[]): GradientTransformation<ChainState> {
  transforms.forEach((t, i) => {
    if (!isTransformation(t)) {
      const hint =
        typeof t === 'function'
          ? `a function${(t as { name?: string }).name ? ` (${(t as { name: string }).name})` : ''}: call it to get the transformation, e.g. chain(clipByGlobalNorm(1), scaleByAdam())`
          : `${describe(t)}; pass values made by identity(), scaleByAdam(), clipByNorm(...) ...`;
      throw new ChainError(`chain: argument ${i + 1} of ${transforms.length} is not a gradient transformation ({ init, update }), it is ${hint}`);
    }
  });
  if (transforms.length === 0) {
    const id = identity();
    return { init: () => [], update: (grads, state) => (checkState(state, 0), { updates: id.update(grads, {}).updates, state: [] }) };
  }
  return {
    init: (params) => transforms.map((t) => t.init(params)),
    update(grads, state, params) {
      checkState(state, transforms.length);
      return ops.tidy(() => {
        let updates = grads;
        const states: unknown[] = [];
        transforms.forEach((t, i) => {
          const r = t.update(updates, state[i], params);
          updates = r.updates;
          states.push(r.state);
        });
        return { updates, state: states } as never;
      }) as TransformResult<ChainState>;
    },
  };
}

function checkState(state: unknown, n: number): asserts state is unknown[] {
  if (!Array.isArray(state) || state.length !== n)
    throw new ChainError(
      `chain.update: expected the state that this chain's init(params) (or its previous update) returned, an array of ${n} state${n === 1 ? '' : 's'}; ` +
        `got ${Array.isArray(state) ? `an array of ${state.length}` : describe(state)}. Was the state made by another optimizer?`,
    );
}

export function isTransformation(x: unknown): x is GradientTransformation {
  return typeof x === 'object' && x !== null && typeof (x as GradientTransformation).init === 'function' && typeof (x as GradientTransformation).update === 'function';
}

/**
 * `params + updates`, leaf by leaf, as new tensors (the inputs are not
 * disposed). `updates` must have a leaf for every leaf of `params`.
 */
export function applyUpdates(params: TensorTree, updates: TensorTree): TensorTree {
  return mapTree(params, (p, path) => {
    const u = leafAt(updates, path, 'updates', 'a leaf for every param (the tree structure of params)');
    if (!sameShape(p.shape, u.shape)) throw new ShapeMismatchError(`applyUpdates: update of '${path}'`, p.shape, u.shape);
    return ops.tidy(() => (u.dtype === p.dtype ? ops.add(p, u) : ops.add(p, ops.cast(u, p.dtype))));
  });
}

// ---- helpers shared by the transformations in this folder ----

/** The leaf of `tree` at `path`, or an error that names the argument and the path. */
export function leafAt(tree: TensorTree, path: string, argument: string, expected: string): ops.Tensor {
  let node: ops.Tensor | TensorTree | undefined = tree;
  for (const part of path.split('/')) {
    node = node === undefined || isTensor(node) ? undefined : node[part];
  }
  if (!isTensor(node)) throw new InvalidArgumentError(`${argument} at '${path}'`, expected, node === undefined ? 'nothing' : 'a subtree');
  return node;
}

/** The state slot of the parameter at `path`. */
export function slotAt(slot: TensorTree, path: string, name: string): ops.Tensor {
  return leafAt(slot, path, `state.${name}`, 'a slot tensor (grads must have the structure of the params given to init)');
}

/**
 * Maps each gradient leaf to several tensors at once (in its own tidy scope)
 * and returns one tree per key, each with the structure of `grads`.
 */
export function mapLeaves<K extends string>(grads: TensorTree, keys: readonly K[], f: (g: ops.Tensor, path: string) => Record<K, ops.Tensor>): Record<K, TensorTree> {
  const results = new Map<string, Record<K, ops.Tensor>>();
  mapTree(grads, (g, path) => {
    results.set(path, ops.tidy(() => f(g, path)));
    return g;
  });
  const out = {} as Record<K, TensorTree>;
  for (const k of keys) out[k] = mapTree(grads, (_, path) => results.get(path)![k]);
  return out;
}

/** One new tensor per leaf, each computed in its own tidy scope. */
export function mapLeaf(tree: TensorTree, f: (g: ops.Tensor, path: string) => ops.Tensor): TensorTree {
  return mapTree(tree, (g, path) => ops.tidy(() => f(g, path)));
}


export function checkNumber(argument: string, value: unknown, { min = -Infinity, max = Infinity, minExclusive = false } = {}): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (minExclusive ? value > min : value >= min) && value <= max;
  if (!ok) {
    const range = [min > -Infinity ? `${minExclusive ? '>' : '>='} ${min}` : '', max < Infinity ? `<= ${max}` : ''].filter(Boolean).join(' and ');
    throw new InvalidArgumentError(argument, `a finite number${range ? ` ${range}` : ''}`, value);
  }
  return value as number;
}
