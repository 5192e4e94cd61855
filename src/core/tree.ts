import * as ops from '../ops/index.js';

/**
 * Parameter trees: nested records of tensors. A model's params are
 * `{ [layerName]: { [weightName]: Tensor } }`, a nested model's are one level
 * deeper. Insertion order is Keras's weight order.
 */
export type Tree<T> = { [key: string]: T | Tree<T> };
export type TensorTree = Tree<ops.Tensor>;

export function isTensor(x: unknown): x is ops.Tensor {
  return x instanceof ops.Tensor;
}

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

export function disposeTree(tree: TensorTree | undefined | null): void {
  if (tree) for (const [, t] of leaves(tree)) t.dispose();
}

export function cloneTree(tree: TensorTree): TensorTree {
  return mapTree(tree, (t) => ops.clone(t));
}

export function keepTree<T extends TensorTree>(tree: T): T {
  for (const [, t] of leaves(tree)) ops.keep(t);
  return tree;
}

/** Every tensor inside an arbitrary value (objects, arrays, Maps are walked). */
export function collectTensors(x: unknown, out: ops.Tensor[] = []): ops.Tensor[] {
  if (x instanceof ops.Tensor) out.push(x);
  else if (Array.isArray(x)) for (const v of x) collectTensors(v, out);
  else if (x instanceof Map) for (const v of x.values()) collectTensors(v, out);
  else if (typeof x === 'object' && x !== null) for (const v of Object.values(x)) collectTensors(v, out);
  return out;
}

/** Disposes the tensors of `old` that `next` no longer holds (a step's inputs after its outputs exist). */
export function disposeReplaced(old: unknown, next: unknown): void {
  const kept = new Set(collectTensors(next));
  for (const t of collectTensors(old)) if (!kept.has(t) && !t.isDisposed) t.dispose();
}
