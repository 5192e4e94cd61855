import * as tf from '@tensorflow/tfjs-core';
import { compiledBackend } from './backend.js';
import type { TraceValue } from './trace.js';

/** How a random tensor made during a trace is made again from another seed. */
export interface RandomSpec {
  seed: number;
  regenerate(seed: number): tf.Tensor;
}

let records: Map<TraceValue, RandomSpec> | undefined;

/** Called by the op namespace's random ops: remembers how `t` was made while a trace listens (by its traced value, which outlives the tensor). */
export function noteRandom<T extends tf.Tensor>(t: T, seed: number | undefined, regenerate: (seed: number) => tf.Tensor): T {
  if (records && seed !== undefined) {
    const v = compiledBackend().valueIfPresent(t.dataId);
    if (v) records.set(v, { seed, regenerate });
  }
  return t;
}

/** Records the random tensors made while `fn` runs, by traced value. */
export function listenToRandoms<T>(fn: () => T): { result: T; randoms: Map<TraceValue, RandomSpec> } {
  const outer = records;
  const randoms = new Map<TraceValue, RandomSpec>();
  records = randoms;
  try {
    return { result: fn(), randoms };
  } finally {
    if (outer) for (const [k, v] of randoms) outer.set(k, v);
    records = outer;
  }
}
