import * as ops from '../ops/index.js';
import { disposeReplaced, fromLeaves, leaves, type TensorTree } from '../core/tree.js';
import type { Optimizer, OptimizerState } from '../optimizers/index.js';
import type { TrainState } from '../training/types.js';
import { readInto } from '../ops/compiled/index.js';

/** One value of a flattened training state. */
export interface LeafSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

/**
 * The order and shapes of a training state flattened into one float32
 * array: every param, every layer-state value, then the optimizer's Keras
 * weights (`iter`, then its slots). Plain data: it crosses to devices with
 * the values, and both sides decode the same way.
 */
export interface StateLayout {
  params: LeafSpec[];
  state: LeafSpec[];
  optimizer: LeafSpec[];
  length: number;
}

function spec(name: string, t: ops.Tensor): LeafSpec {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new TypeError(`training state value '${name}' is ${t.dtype}; only float32 and int32 cross to devices`);
  return { name, shape: [...t.shape], dtype: t.dtype };
}

/** The trainable params a Keras optimizer's state is made for, in tree order. */
export function trainableTree(params: TensorTree, trainable: Set<string>): TensorTree {
  return fromLeaves(leaves(params).filter(([p]) => trainable.has(p)));
}

/** The layout of `ts`, and the flat values when `out` is given (or a new array). */
export function encodeState(ts: TrainState, optimizer: Optimizer, out?: Float32Array): { layout: StateLayout; data: Float32Array } {
  const weights = optimizer.weights(ts.optState as OptimizerState);
  try {
    const all: [string, ops.Tensor][] = [...leaves(ts.params), ...leaves(ts.state), ...weights];
    const layout: StateLayout = {
      params: leaves(ts.params).map(([n, t]) => spec(n, t)),
      state: leaves(ts.state).map(([n, t]) => spec(n, t)),
      optimizer: weights.map(([n, t]) => spec(n, t)),
      length: all.reduce((s, [, t]) => s + t.size, 0),
    };
    const data = out ?? new Float32Array(layout.length);
    if (data.length < layout.length) throw new RangeError(`state buffer holds ${data.length} floats, the state has ${layout.length}`);
    let offset = 0;
    for (const [, t] of all) {
      data.set(t.dataSync() as Float32Array | Int32Array, offset);
      offset += t.size;
    }
    return { layout, data };
  } finally {
    ops.dispose(weights.map(([, t]) => t));
  }
}

/**
 * Writes values into a flat state laid out as `layout`, by name: the
 * params, layer state and optimizer weights given (a replica with part of
 * the optimizer state writes that part: an optional third element is where
 * a part starts in its whole value, in elements). Unknown names are refused.
 */
export function writeByName(
  layout: StateLayout,
  out: Float32Array,
  parts: { params?: [string, ops.Tensor][]; state?: [string, ops.Tensor][]; optimizer?: [string, ops.Tensor, number?][] },
): void {
  let offset = 0;
  const place = (specs: LeafSpec[]) =>
    new Map(specs.map((s) => {
      const at = offset;
      offset += s.shape.reduce((a, b) => a * b, 1);
      return [s.name, at] as const;
    }));
  const where = { params: place(layout.params), state: place(layout.state), optimizer: place(layout.optimizer) };
  for (const kind of ['params', 'state', 'optimizer'] as const)
    for (const [name, t, start = 0] of (parts[kind] ?? []) as [string, ops.Tensor, number?][]) {
      const at = where[kind].get(name);
      if (at === undefined) throw new RangeError(`the state layout has no ${kind} value '${name}'`);
      // Read in place where the compiled backend holds them (a replica's heap, the shared weights).
      readInto(t, out.subarray(at + start, at + start + t.size));
    }
}

/**
 * The training state in `data` (laid out as `layout`): new tensors, owned by
 * the caller. The optimizer state is the optimizer's fresh state for the
 * trainable params with the Keras weights set (its hyper-parameters are
 * the optimizer's own: set others afterwards).
 */
export function decodeState(
  layout: StateLayout,
  data: Float32Array,
  optimizer: Optimizer,
  trainablePaths: (params: TensorTree) => Set<string>,
  step: number,
  key: number,
): TrainState {
  let offset = 0;
  const take = (s: LeafSpec): ops.Tensor => {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const view = data.subarray(offset, offset + size);
    offset += size;
    return s.dtype === 'int32' ? ops.tensor(Int32Array.from(view), s.shape, 'int32') : ops.copiedTensor(view, s.shape, 'float32');
  };
  const params = fromLeaves(layout.params.map((s) => [s.name, take(s)] as [string, ops.Tensor]));
  const state = fromLeaves(layout.state.map((s) => [s.name, take(s)] as [string, ops.Tensor]));
  const values = layout.optimizer.map(take);
  const fresh = optimizer.init(trainableTree(params, trainablePaths(params)));
  try {
    return { params, state, optState: optimizer.setWeights(fresh, values, undefined, true), step, key };
  } catch (error) {
    ops.dispose(values);
    throw error;
  } finally {
    disposeReplaced(fresh, undefined);
  }
}
