import * as tf from '@tensorflow/tfjs-core';

/** How a random tensor made during a trace is made again from another seed. */
export interface RandomSpec {
  seed: number;
  regenerate(seed: number): tf.Tensor;
}

let records: Map<object, RandomSpec> | undefined;

/** Called by the op namespace's random ops: remembers how `t` was made while a trace listens (by its data id). */
export function noteRandom<T extends tf.Tensor>(t: T, seed: number | undefined, regenerate: (seed: number) => tf.Tensor): T {
  if (records && seed !== undefined) records.set(t.dataId, { seed, regenerate });
  return t;
}

/** Records the random tensors made while `fn` runs, by data id. */
export function listenToRandoms<T>(fn: () => T): { result: T; randoms: Map<object, RandomSpec> } {
  const outer = records;
  const randoms = new Map<object, RandomSpec>();
  records = randoms;
  try {
    return { result: fn(), randoms };
  } finally {
    if (outer) for (const [k, v] of randoms) outer.set(k, v);
    records = outer;
  }
}
