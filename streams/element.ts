import * as tf from '../src/ops/index.js';
import { ShapeMismatchError } from '../src/core/errors.js';
import { disposeTree, isPlainObject, tensors } from '../src/core/tree.js';

/** A tensor, or arrays / records of them (multi-input models). */
export type TensorStructure = tf.Tensor | readonly TensorStructure[] | { readonly [key: string]: TensorStructure | undefined };

/** The element of a training data set: tensors for one row (before batch) or one batch (after). */
export interface Example {
  x: TensorStructure;
  y?: TensorStructure;
  sampleWeight?: TensorStructure;
}

/** What sources accept as a leaf before it becomes a tensor. */
export type NumericLeaf = tf.Tensor | number | readonly number[] | readonly (readonly number[])[] | Float32Array | Int32Array | Uint8Array;

/** Disposes every tensor of each value. */
export function disposeAll(values: Iterable<unknown>): void {
  for (const v of values) disposeTree(v);
}

/** Stacks elements of the same structure along a new leading axis. The inputs are left alone. */
export function stackElements<T>(elements: readonly T[], where = 'batch'): T {
  const first = elements[0];
  return stackAt(elements as unknown[], first, where, '') as T;
}

function stackAt(items: unknown[], first: unknown, where: string, path: string): unknown {
  if (first instanceof tf.Tensor) {
    items.forEach((t, i) => {
      if (!(t instanceof tf.Tensor) || !tf.util.arraysEqual(t.shape, first.shape))
        throw new ShapeMismatchError(`${where}: element ${i}${path ? ` at '${path}'` : ''}`, first.shape, t instanceof tf.Tensor ? t.shape : 'not a tensor');
    });
    return tf.stack(items as tf.Tensor[]);
  }
  if (first === undefined) return undefined;
  if (Array.isArray(first)) return first.map((f, k) => stackAt(items.map((it) => (it as unknown[])[k]), f, where, `${path}/${k}`));
  if (isPlainObject(first)) {
    const out: Record<string, unknown> = {};
    for (const [k, f] of Object.entries(first)) out[k] = stackAt(items.map((it) => (it as Record<string, unknown>)[k]), f, where, path ? `${path}/${k}` : k);
    return out;
  }
  if (typeof first === 'number') return tf.tensor1d(items as number[]);
  return items;
}

/** The number of rows (leading dimension) of a batched element; throws if its leaves disagree. */
export function batchLength(element: unknown, where = 'unbatch'): number {
  const ts = tensors(element);
  if (ts.length === 0) throw new ShapeMismatchError(where, 'an element holding tensors', 'no tensor');
  const n = ts[0].shape[0];
  for (const t of ts) {
    if (t.rank === 0) throw new ShapeMismatchError(where, '[rows, ...]', t.shape);
    if (t.shape[0] !== n) throw new ShapeMismatchError(`${where}: leaves of one batch`, [n ?? null], [t.shape[0] ?? null]);
  }
  return n ?? 0;
}

/** Splits a batched element into its rows. The input is left alone. */
export function unstackElement<T>(element: T, where = 'unbatch'): T[] {
  const n = batchLength(element, where);
  const rows: unknown[] = Array.from({ length: n }, () => undefined);
  const fill = (value: unknown, set: (row: number, v: unknown) => void): void => {
    if (value instanceof tf.Tensor) tf.unstack(value).forEach((t, i) => set(i, t));
    else if (value === undefined) for (let i = 0; i < n; i++) set(i, undefined);
    else if (Array.isArray(value)) {
      const parts: unknown[][] = Array.from({ length: n }, () => []);
      value.forEach((v, k) => fill(v, (i, t) => (parts[i][k] = t)));
      parts.forEach((p, i) => set(i, p));
    } else if (isPlainObject(value)) {
      const parts: Record<string, unknown>[] = Array.from({ length: n }, () => ({}));
      for (const [k, v] of Object.entries(value)) fill(v, (i, t) => (parts[i][k] = t));
      parts.forEach((p, i) => set(i, p));
    } else for (let i = 0; i < n; i++) set(i, value);
  };
  fill(element, (i, v) => (rows[i] = v));
  return rows as T[];
}

/** Turns a number, nested number array or typed array into a tensor; tensors pass through. */
export function toTensor(leaf: NumericLeaf): tf.Tensor {
  if (leaf instanceof tf.Tensor) return leaf;
  if (typeof leaf === 'number') return tf.scalar(leaf);
  if (ArrayBuffer.isView(leaf)) return tf.tensor1d(leaf as Float32Array);
  return tf.tensor(leaf as number[]);
}

/** Accepts `{ x, y, sampleWeight }` or a Keras-style tuple `[x, y]` / `[x, y, sampleWeight]`. */
export type ExampleInput =
  | { x: NumericLeaf | readonly NumericLeaf[]; y?: NumericLeaf | readonly NumericLeaf[]; sampleWeight?: NumericLeaf }
  | readonly [NumericLeaf, NumericLeaf?, NumericLeaf?];

function structure(v: unknown): TensorStructure {
  if (v instanceof tf.Tensor || typeof v === 'number' || ArrayBuffer.isView(v)) return toTensor(v as NumericLeaf);
  if (Array.isArray(v) && v.length > 0 && v.every((e) => e instanceof tf.Tensor)) return v as tf.Tensor[];
  return toTensor(v as NumericLeaf);
}

/** Normalises what a generator yields into an Example whose leaves are tensors. */
export function toExample(value: ExampleInput): Example {
  if (Array.isArray(value)) {
    const [x, y, sw] = value as unknown[];
    const out: Example = { x: structure(x) };
    if (y !== undefined) out.y = structure(y);
    if (sw !== undefined) out.sampleWeight = structure(sw);
    return out;
  }
  const v = value as { x: unknown; y?: unknown; sampleWeight?: unknown };
  const out: Example = { x: structure(v.x) };
  if (v.y !== undefined) out.y = structure(v.y);
  if (v.sampleWeight !== undefined) out.sampleWeight = structure(v.sampleWeight);
  return out;
}
