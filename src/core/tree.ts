import * as ops from '../ops/index.js';
import { ShapeMismatchError } from './errors.js';

/**
 * The one pytree module. A pytree is a value whose leaves are tensors,
 * nested in arrays, plain records and Maps; other leaves (numbers, strings,
 * null, undefined) are carried along untouched. Params are the record form
 * `{ [layerName]: { [weightName]: Tensor } }` (a nested model one level
 * deeper), with insertion order as Keras's weight order; optimizer states,
 * stream elements and events hold the other forms.
 */
export type Tree<T> = { [key: string]: T | Tree<T> };
export type TensorTree = Tree<ops.Tensor>;

export function isTensor(x: unknown): x is ops.Tensor {
  return x instanceof ops.Tensor;
}

/** A record made by `{}` or `Object.create(null)`: the only objects a pytree walks into (class instances are leaves). */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

// ---- any nesting ----------------------------------------------------------

/** Every tensor inside `x`, in order (arrays, plain records and Map values are walked); a tensor held twice is listed twice. */
export function tensors(x: unknown, out: ops.Tensor[] = []): ops.Tensor[] {
  if (x instanceof ops.Tensor) out.push(x);
  else if (Array.isArray(x)) for (const v of x) tensors(v, out);
  else if (x instanceof Map) for (const v of x.values()) tensors(v, out);
  else if (isPlainObject(x)) for (const v of Object.values(x)) tensors(v, out);
  return out;
}

/** `x` with every tensor replaced by `f(tensor)`: arrays, plain records and Maps keep their structure; other leaves are kept. */
export function mapTensors<T>(x: T, f: (t: ops.Tensor) => ops.Tensor): T {
  const walk = (v: unknown): unknown => {
    if (v instanceof ops.Tensor) return f(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v instanceof Map) return new Map([...v].map(([k, y]) => [k, walk(y)]));
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, y]) => [k, walk(y)]));
    return v;
  };
  return walk(x) as T;
}

/** A copy of `x` with every tensor cloned; a tensor held twice is cloned once (the copy shares it the same way). */
export function cloneTree<T>(x: T): T {
  return mapDistinct(x, ops.clone);
}

/** As cloneTree, with a shared handle on each tensor instead of a copy (see ops.share: only for values nobody rewrites). */
export function shareTree<T>(x: T): T {
  return mapDistinct(x, ops.share);
}

/** `x` with `f` applied once per distinct tensor. */
function mapDistinct<T>(x: T, f: (t: ops.Tensor) => ops.Tensor): T {
  const done = new Map<ops.Tensor, ops.Tensor>();
  return mapTensors(x, (t) => {
    let c = done.get(t);
    if (!c) done.set(t, (c = f(t)));
    return c;
  });
}

/** Disposes every tensor inside `x` (each once; already disposed ones are skipped). */
export function disposeTree(x: unknown): void {
  for (const t of new Set(tensors(x))) if (!t.isDisposed) t.dispose();
}

/** Disposes the tensors of `old` that `next` no longer holds (a step's inputs after its outputs exist, a map's input after its output). */
export function disposeReplaced(old: unknown, next: unknown): void {
  const kept = new Set(tensors(next));
  for (const t of new Set(tensors(old))) if (!kept.has(t) && !t.isDisposed) t.dispose();
}

/** Marks every tensor of `x` to survive the enclosing `tidy`. */
export function keepTree<T>(x: T): T {
  for (const t of tensors(x)) ops.keep(t);
  return x;
}

/** Equal shapes, dimension by dimension. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Checks that `b` has the structure of `a`: the same nesting (array lengths,
 * record keys in any order), tensors where `a` has tensors, with the same
 * shapes. Throws ShapeMismatchError naming the first path that differs.
 */
export function assertSameStructure(a: unknown, b: unknown, where: string, path = ''): void {
  const at = path ? `${where} at '${path}'` : where;
  const sub = (k: string | number) => (path ? `${path}/${k}` : String(k));
  if (a instanceof ops.Tensor) {
    if (!(b instanceof ops.Tensor)) throw new ShapeMismatchError(at, a.shape, describeNode(b));
    if (!sameShape(a.shape, b.shape)) throw new ShapeMismatchError(at, a.shape, b.shape);
  } else if (Array.isArray(a)) {
    if (!Array.isArray(b) || b.length !== a.length) throw new ShapeMismatchError(at, `a list of ${a.length}`, describeNode(b));
    a.forEach((v, i) => assertSameStructure(v, b[i], where, sub(i)));
  } else if (isPlainObject(a)) {
    if (!isPlainObject(b)) throw new ShapeMismatchError(at, `a record of ${Object.keys(a).join(', ')}`, describeNode(b));
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join('|') !== kb.join('|')) throw new ShapeMismatchError(at, `the keys ${ka.join(', ')}`, `the keys ${kb.join(', ')}`);
    for (const k of ka) assertSameStructure(a[k], b[k], where, sub(k));
  } else if (b instanceof ops.Tensor || Array.isArray(b) || isPlainObject(b)) throw new ShapeMismatchError(at, describeNode(a), describeNode(b));
}

function describeNode(x: unknown): string {
  if (x instanceof ops.Tensor) return `a tensor [${x.shape}]`;
  if (Array.isArray(x)) return `a list of ${x.length}`;
  if (isPlainObject(x)) return `a record of ${Object.keys(x).join(', ') || 'nothing'}`;
  return typeof x;
}

// ---- record trees with paths ('dense/kernel') --------------------------------

/** Leaves in insertion order with their paths ('dense/kernel'). */
export function leaves<T>(tree: Tree<T>, isLeaf: (x: unknown) => x is T = isTensor as never, prefix = ''): [string, T][] {
  const out: [string, T][] = [];
  for (const [k, v] of Object.entries(tree)) {
    const path = prefix ? `${prefix}/${k}` : k;
    if (isLeaf(v)) out.push([path, v]);
    else out.push(...leaves(v as Tree<T>, isLeaf, path));
  }
  return out;
}

export function mapTree<A, B>(tree: Tree<A>, f: (leaf: A, path: string) => B, isLeaf: (x: unknown) => x is A = isTensor as never, prefix = ''): Tree<B> {
  const out: Tree<B> = {};
  for (const [k, v] of Object.entries(tree)) {
    const path = prefix ? `${prefix}/${k}` : k;
    out[k] = isLeaf(v) ? f(v, path) : mapTree(v as Tree<A>, f, isLeaf, path);
  }
  return out;
}

/** Maps over the leaves of `a` together with the leaf at the same path in each of `others`. */
export function zipTree(a: TensorTree, others: TensorTree[], f: (leaf: ops.Tensor, rest: ops.Tensor[], path: string) => ops.Tensor): TensorTree {
  return mapTree(a, (leaf, path) => f(leaf, others.map((o) => getPath(o, path)), path));
}

export function getPath(tree: TensorTree, path: string): ops.Tensor {
  let node: ops.Tensor | TensorTree = tree;
  for (const part of path.split('/')) {
    if (isTensor(node) || !(part in node)) throw new Error(`no leaf at '${path}'`);
    node = node[part];
  }
  if (!isTensor(node)) throw new Error(`'${path}' is a subtree, not a tensor`);
  return node;
}

/** Builds a tree from (path, leaf) pairs. */
export function fromLeaves<T>(pairs: Iterable<[string, T]>): Tree<T> {
  const out: Tree<T> = {};
  for (const [path, leaf] of pairs) {
    const parts = path.split('/');
    let node = out;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Tree<T>;
    node[parts[parts.length - 1]] = leaf;
  }
  return out;
}
