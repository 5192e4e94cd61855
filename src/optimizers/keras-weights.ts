import * as ops from '../ops/index.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { isTensor, leaves, mapTree, sameShape, type TensorTree } from '../core/tree.js';
import type { InjectedState } from './inject.js';
import { leafAt, type ChainState } from './transformation.js';

/** The state of a Keras optimizer: `iterations`, the hyper-parameters (`learning_rate`, `beta_1`, ...) and the chain's state. */
export type OptimizerState = InjectedState<ChainState>;

/**
 * Where each trainable parameter is in the params tree, in Keras's weight
 * order: a tree path ('dense/kernel', which is also its Keras variable name)
 * or a pair [tree path, Keras variable name].
 */
export type ParamPaths = readonly (string | readonly [path: string, kerasName: string])[];

/** What names and orders a Keras optimizer's weights: its class, name, slots and scalars, and the Keras 1 layouts it accepts. */
export interface WeightLayout {
  className: string;
  /** Keras's `name`, the prefix of the weight names ('Adam/iter:0'). */
  name: string;
  /** Slot names per parameter, in Keras's weight order ('m', 'v', ...). */
  slotNames: readonly string[];
  /** Per-optimizer scalars saved after `iter` (Nadam's 'momentum_cache'). */
  scalarNames: readonly string[];
  /** Keras 1 weight lists lack `iterations` (RMSprop, Adagrad, Adadelta). */
  v1WithoutIterations?: boolean;
  /** Keras 1 Adam lists carry `vhat`s even without amsgrad. */
  v1ExtraSlots?: number;
}

/**
 * The optimizer's weights as tf.keras 2 `get_weights()` orders and names
 * them (see `Optimizer.weights`). Every returned tensor is new, except
 * the slots without `copy`: those are the state's own.
 */
export function optimizerWeights(layout: WeightLayout, state: OptimizerState, paramPaths?: ParamPaths, copy = true): [string, ops.Tensor][] {
  const slots = findSlots(state.inner, layout.slotNames, layout.scalarNames);
  const paths = resolvePaths(paramPaths, slots, layout.slotNames);
  const names = weightNames(layout, paths);
  const values: ops.Tensor[] = [
    ops.scalar(state.iterations, 'int32'),
    ...layout.scalarNames.map((s) => ops.scalar(slots.scalars.get(s) ?? 0)),
    ...layout.slotNames.flatMap((s) =>
      paths.map(([path]) => {
        const slot = leafAt(slots.trees.get(s)!, path, `state slot '${s}'`, 'a slot for every param in paramPaths');
        return copy ? ops.clone(slot) : slot;
      }),
    ),
  ];
  return values.map((v, i) => [names[i], v]);
}

/**
 * A new state with the weights in `values` (in the order of
 * {@link optimizerWeights}), accepting the Keras 1 layouts of `layout` (see
 * `Optimizer.setWeights`). The values are copied, or with `adopt` taken
 * over (the new state holds them; those it does not hold are disposed);
 * `state` is left as it was.
 */
export function setOptimizerWeights(layout: WeightLayout, state: OptimizerState, values: readonly ops.Tensor[], paramPaths?: ParamPaths, adopt = false): OptimizerState {
  const { className, slotNames, scalarNames } = layout;
  const slots = findSlots(state.inner, slotNames, scalarNames);
  const paths = resolvePaths(paramPaths, slots, slotNames);
  const names = weightNames(layout, paths);
  let list: readonly (ops.Tensor | number)[] = values;
  if (layout.v1WithoutIterations && list.length === names.length - 1) list = [0, ...list];
  if (layout.v1ExtraSlots && list.length === names.length + layout.v1ExtraSlots * paths.length) list = list.slice(0, names.length);
  if (list.length !== names.length)
    throw new InvalidArgumentError(`${className}.setWeights(values)`, `${names.length} tensors (${describeNames(names)})`, `${values.length} tensors`);
  const number = (x: ops.Tensor | number) => (typeof x === 'number' ? x : x.dataSync()[0]);
  const iterations = Math.round(number(list[0]));
  const scalars = new Map(scalarNames.map((s, i) => [s, number(list[1 + i])]));
  const trees = new Map<string, TensorTree>();
  let k = 1 + scalarNames.length;
  const held = new Set<ops.Tensor>();
  for (const s of slotNames) {
    const given = new Map<string, ops.Tensor>();
    for (const [path] of paths) given.set(path, list[k++] as ops.Tensor);
    trees.set(
      s,
      mapTree(slots.trees.get(s)!, (old, path) => {
        const value = given.get(path);
        if (!value) return ops.clone(old);
        if (!sameShape(old.shape, value.shape)) throw new ShapeMismatchError(`${className}.setWeights: slot '${s}' of '${path}'`, old.shape, value.shape);
        if (value.dtype !== old.dtype) return ops.cast(value, old.dtype);
        if (!adopt) return ops.clone(value);
        held.add(value);
        return value;
      }),
    );
  }
  if (adopt) ops.dispose(values.filter((v) => !held.has(v)));
  return {
    iterations,
    hyperparams: Object.fromEntries(Object.entries(state.hyperparams).map(([key, v]) => [key, isTensor(v) ? ops.clone(v) : v])),
    inner: rebuild(state.inner, trees, scalars, iterations) as ChainState,
  };
}

/** `<name>/iter:0`, the scalars, then each slot of every parameter, as tf.keras 2 names them. */
function weightNames(layout: WeightLayout, paths: readonly [string, string][]): string[] {
  return [
    `${layout.name}/iter:0`,
    ...layout.scalarNames.map((s) => `${layout.name}/${s}:0`),
    ...layout.slotNames.flatMap((s) => paths.map(([, kerasName]) => `${layout.name}/${kerasName}/${s}:0`)),
  ];
}

export interface FoundSlots {
  trees: Map<string, TensorTree>;
  scalars: Map<string, number>;
}

/** Finds the Keras slots by name in a chain state (arrays of building-block states). */
export function findSlots(inner: unknown, slotNames: readonly string[], scalarNames: readonly string[]): FoundSlots {
  const found: FoundSlots = { trees: new Map(), scalars: new Map() };
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(visit);
    else if (typeof x === 'object' && x !== null && !isTensor(x))
      for (const [k, v] of Object.entries(x)) {
        if (slotNames.includes(k)) found.trees.set(k, v as TensorTree);
        else if (scalarNames.includes(k) && typeof v === 'number') found.scalars.set(k, v);
      }
  };
  visit(inner);
  for (const s of slotNames)
    if (!found.trees.has(s)) throw new InvalidArgumentError('state', `an optimizer state with a '${s}' slot (made by this optimizer's init)`, 'a state without it');
  return found;
}

/** A copy of a chain state with new slot trees, scalars and step counts; other tensors are cloned. */
export function rebuild(x: unknown, trees: Map<string, TensorTree>, scalars: Map<string, number>, iterations: number): unknown {
  if (Array.isArray(x)) return x.map((s) => rebuild(s, trees, scalars, iterations));
  if (isTensor(x)) return ops.clone(x);
  if (typeof x !== 'object' || x === null) return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) {
    if (trees.has(k)) out[k] = trees.get(k);
    else if (scalars.has(k)) out[k] = scalars.get(k);
    else if (k === 'count' && typeof v === 'number') out[k] = iterations;
    else if (typeof v === 'object' && v !== null && !Array.isArray(v) && !isTensor(v)) out[k] = mapTree(v as TensorTree, (leaf) => ops.clone(leaf));
    else out[k] = isTensor(v) ? ops.clone(v) : v;
  }
  return out;
}

function resolvePaths(paramPaths: ParamPaths | undefined, slots: FoundSlots, slotNames: readonly string[]): [string, string][] {
  if (paramPaths) return paramPaths.map((p) => (typeof p === 'string' ? [p, p] : [p[0], p[1]]));
  const first = slotNames.length > 0 ? slots.trees.get(slotNames[0]) : undefined;
  return first ? leaves(first).map(([path]) => [path, path]) : [];
}

function describeNames(names: string[]): string {
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 4).join(', ')}, ... ${names[names.length - 1]}`;
}
