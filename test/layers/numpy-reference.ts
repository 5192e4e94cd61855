/**
 * An independent reference for layer tests: runs a numpy script in Debian's
 * /usr/bin/python3 (python3-numpy, see test/helpers/python.ts), in float64. The script reads the JSON
 * input as `D` and assigns its result (arrays, nested lists, numbers) to `R`.
 * The library never needs Python; only these tests do.
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { PYTHON } from '../helpers/python.js';

const PRELUDE = `
import json, sys
import numpy as np
D = json.load(sys.stdin)
def A(x): return np.asarray(x, dtype=np.float64)
`;
const EPILOGUE = `
def _plain(x):
    if isinstance(x, np.ndarray): return {"shape": list(x.shape), "data": x.reshape(-1).tolist()}
    if isinstance(x, (list, tuple)): return [_plain(v) for v in x]
    if isinstance(x, dict): return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, np.generic): return x.item()
    return x
json.dump(_plain(R), sys.stdout)
`;

export interface NdArray {
  shape: number[];
  data: number[];
}

/** Runs `script` with `input` as `D`; returns `R` (numpy arrays as { shape, data }). */
export function numpy<T = unknown>(script: string, input: unknown): T {
  const r = spawnSync(PYTHON, ['-c', PRELUDE + script + EPILOGUE], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`numpy reference failed (${r.status}): ${r.stderr || r.error}`);
  return JSON.parse(r.stdout) as T;
}

/** A tensor as nested-free JSON for the reference: { shape, data }. */
export function toJson(t: tf.Tensor): NdArray {
  return { shape: t.shape, data: Array.from(t.dataSync()) };
}

/** Max |a - e| / max(|e|) over all elements (shapes must agree). */
export function relError(actual: tf.Tensor, expected: NdArray): number {
  if (JSON.stringify(actual.shape) !== JSON.stringify(expected.shape))
    throw new Error(`shape ${JSON.stringify(actual.shape)} vs reference ${JSON.stringify(expected.shape)}`);
  const a = actual.dataSync();
  let scale = 0;
  for (const e of expected.data) scale = Math.max(scale, Math.abs(e));
  let worst = 0;
  expected.data.forEach((e, i) => (worst = Math.max(worst, Math.abs(a[i] - e) / Math.max(scale, 1e-30))));
  return worst;
}

/** Asserts max |a - e| / max(|e|) <= rtol between two tensors; returns the error. */
export function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string, rtol = 1e-5): number {
  if (JSON.stringify(actual.shape) !== JSON.stringify(expected.shape)) throw new Error(`${what}: shape ${JSON.stringify(actual.shape)} vs ${JSON.stringify(expected.shape)}`);
  const err = relError(actual, { shape: expected.shape, data: Array.from(expected.dataSync()) });
  if (!(err <= rtol)) throw new Error(`${what}: max relative error ${err.toExponential(2)} > ${rtol}`);
  return err;
}
