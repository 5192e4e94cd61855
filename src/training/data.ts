import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import { permutation, type Key } from '../core/rng.js';
import { heapRows } from '../ops/compiled/index.js';

/** What `fit` / `evaluate` / `predict` accept for x or y: one array-like per model input or output. */
export type ArrayLike = ops.Tensor | number[] | number[][] | number[][][] | number[][][][] | Float32Array;
export type DataArg = ArrayLike | ArrayLike[] | Record<string, ArrayLike>;

/** Converts a data argument into one tensor per name, in `names` order. The caller owns the tensors it did not pass in. */
export function toTensors(argument: string, data: DataArg, names: string[]): { tensors: ops.Tensor[]; created: ops.Tensor[] } {
  const created: ops.Tensor[] = [];
  const convert = (v: ArrayLike, where: string): ops.Tensor => {
    if (v instanceof ops.Tensor) return v;
    if (!Array.isArray(v) && !(v instanceof Float32Array)) throw new InvalidArgumentError(where, 'a tensor or a (nested) array of numbers', v);
    let t: ops.Tensor;
    try {
      t = ops.tensor(v as number[]);
    } catch (e) {
      throw new InvalidArgumentError(where, 'a rectangular (nested) array of numbers', (e as Error).message);
    }
    created.push(t);
    return t;
  };
  let list: ArrayLike[];
  if (data instanceof ops.Tensor || data instanceof Float32Array || (Array.isArray(data) && !isListOfArrays(data, names.length))) list = [data as ArrayLike];
  else if (Array.isArray(data)) list = data as ArrayLike[];
  else if (typeof data === 'object' && data !== null) {
    const record = data as Record<string, ArrayLike>;
    list = names.map((n) => {
      if (!(n in record)) throw new InvalidArgumentError(`${argument}.${n}`, `data for every one of ${names.join(', ')}`, Object.keys(record));
      return record[n];
    });
  } else throw new InvalidArgumentError(argument, 'a tensor, an array, a list of those, or a record by name', data);
  if (list.length !== names.length)
    throw new InvalidArgumentError(argument, `${names.length} array(s) (one for each of ${names.join(', ')})`, `${list.length}`);
  return { tensors: list.map((v, i) => convert(v, names.length > 1 ? `${argument}[${i}]` : argument)), created };
}

/** A list of tensors for several inputs, as opposed to one nested array of numbers. */
function isListOfArrays(data: unknown[], expected: number): boolean {
  if (data.length === 0) return false;
  if (data.every((d) => d instanceof ops.Tensor)) return true;
  return expected > 1 && data.length === expected && data.every((d) => Array.isArray(d) && Array.isArray(d[0]));
}

/** The common number of samples; every tensor must have it. */
export function sampleCount(parts: { argument: string; tensors: ops.Tensor[] }[]): number {
  let n: number | undefined;
  let first = '';
  for (const { argument, tensors } of parts)
    for (const t of tensors) {
      if (t.rank === 0) throw new InvalidArgumentError(argument, 'arrays with a batch dimension', 'a scalar');
      if (n === undefined) {
        n = t.shape[0];
        first = argument;
      } else if (t.shape[0] !== n)
        throw new InvalidArgumentError(argument, `${n} samples (as many as ${first})`, `${t.shape[0]} samples`);
    }
  if (n === undefined || n === 0) throw new InvalidArgumentError(parts[0]?.argument ?? 'x', 'at least one sample', 0);
  return n;
}

/** Keras's validation split: the last `fraction` of the samples, before any shuffling. */
export function validationSplitAt(n: number, fraction: number): number {
  if (!(fraction >= 0 && fraction < 1)) throw new InvalidArgumentError('validationSplit', 'a number in [0, 1)', fraction);
  const at = Math.floor(n * (1 - fraction));
  if (fraction > 0 && (at === 0 || at === n))
    throw new InvalidArgumentError('validationSplit', `a fraction that leaves samples on both sides of ${n}`, fraction);
  return at;
}

/** Index lists of the batches of one epoch; shuffled with the key when asked. */
export function epochBatches(n: number, batchSize: number, shuffle: boolean, key: Key): Int32Array[] {
  const order = shuffle ? permutation(key, n) : Int32Array.from({ length: n }, (_, i) => i);
  const out: Int32Array[] = [];
  for (let start = 0; start < n; start += batchSize) out.push(order.subarray(start, Math.min(n, start + batchSize)));
  return out;
}

/**
 * Rows `indices` of each tensor: with compiled steps, gathered into the fused
 * update's heap (ops/compiled's heapRows), else a slice when they are
 * consecutive and a gather otherwise. New tensors, owned by the caller.
 */
export function takeRows(tensors: ops.Tensor[], indices: Int32Array): ops.Tensor[] {
  const start = indices[0] ?? 0; // no indices: empty slices (a member without rows of a small batch)
  const consecutive = indices.every((v, i) => v === start + i);
  return tensors.map(
    (t) =>
      (indices.length > 0 ? heapRows(t, indices) : undefined) ??
      (consecutive ? ops.slice(t, [start], [indices.length]) : ops.tidy(() => ops.gather(t, ops.tensor1d(indices, 'int32')))),
  );
}

export function checkBatchSize(batchSize: unknown): number {
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1)
    throw new InvalidArgumentError('batchSize', 'an integer >= 1', batchSize);
  return batchSize;
}

/** x, y and sample weights of a call, as tensors, with their common number of samples. */
export interface PreparedData {
  xs: ops.Tensor[];
  ys: ops.Tensor[];
  sw: ops.Tensor | undefined;
  n: number;
}

/** Converts and checks x, y and sample weights for `module`; the tensors it makes are pushed to `owned`. */
export function prepareData(module: { inputNames: string[]; outputNames: string[] }, x: DataArg, y: DataArg, sampleWeight: ArrayLike | undefined, owned: ops.Tensor[]): PreparedData {
  if (x === undefined || x === null) throw new InvalidArgumentError('x', 'training data', x);
  if (y === undefined || y === null) throw new InvalidArgumentError('y', 'targets', y);
  const xs = toTensors('x', x, module.inputNames);
  owned.push(...xs.created);
  const ys = toTensors('y', y, module.outputNames);
  owned.push(...ys.created);
  const parts = [{ argument: 'x', tensors: xs.tensors }, { argument: 'y', tensors: ys.tensors }];
  let sw: ops.Tensor | undefined;
  if (sampleWeight !== undefined) {
    const s = toTensors('sampleWeight', sampleWeight, ['sampleWeight']);
    owned.push(...s.created);
    sw = s.tensors[0];
    if (sw.rank !== 1) throw new InvalidArgumentError('sampleWeight', 'a 1D array (one weight per sample)', sw.shape);
    parts.push({ argument: 'sampleWeight', tensors: [sw] });
  }
  return { xs: xs.tensors, ys: ys.tensors, sw, n: sampleCount(parts) };
}

/**
 * The batch input shape of x's first array ([null, ...its sample shape]),
 * for a model that learns its input shape from the data (a Sequential model
 * without input_shape); undefined when x gives none.
 */
export function dataInputShape(x: DataArg): (number | null)[] | undefined {
  if (x === undefined || x === null) return undefined;
  const names = Array.isArray(x) && x.length > 1 && x.every((t) => t instanceof ops.Tensor) ? x.map((_, i) => `input_${i}`) : ['input'];
  const { tensors, created } = toTensors('x', x, names);
  try {
    return [null, ...tensors[0].shape.slice(1)];
  } finally {
    ops.dispose(created);
  }
}
