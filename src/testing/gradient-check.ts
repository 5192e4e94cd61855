import * as ops from '../ops/index.js';
import { RxKerasError } from '../core/errors.js';
import { makeKey } from '../core/rng.js';
import type { Layer, Shapes, Weights } from '../layers/layer.js';

/** An analytic gradient that disagrees with finite differences. */
export class GradientMismatchError extends RxKerasError {
  constructor(
    readonly argument: string,
    readonly index: number,
    readonly analytic: number,
    readonly numeric: number,
  ) {
    super(`gradient of ${argument} at element ${index}: analytic ${analytic}, finite differences ${numeric}`);
  }
}

export interface GradientCheckOptions {
  /** Step of the central differences (default 1e-2: float32 needs a large one). */
  eps?: number;
  /** Largest |analytic - numeric|, relative to the largest numeric entry (at least 1e-2) (default 2e-2). */
  rtol?: number;
  /** Names of the arguments, for messages (default arg0, arg1, ...). */
  names?: string[];
}

/**
 * The finite-difference check: the gradient of the scalar function `f` at
 * `args` (ops.valueAndGrads) against central differences `(f(x + eps) - f(x - eps))
 * / 2 eps`, element by element. Throws GradientMismatchError at the first
 * element out of tolerance; returns the largest relative error. Disposes
 * everything it makes.
 */
export function checkGradients(f: (...args: ops.Tensor[]) => ops.Scalar, args: ops.Tensor[], options: GradientCheckOptions = {}): number {
  const eps = options.eps ?? 1e-2;
  const rtol = options.rtol ?? 2e-2;
  const name = (k: number) => options.names?.[k] ?? `arg${k}`;
  const { value, grads } = ops.valueAndGrads(f)(args);
  value.dispose();
  try {
    let worst = 0;
    args.forEach((arg, k) => {
      const base = arg.dataSync().slice() as Float32Array;
      const numeric = new Float32Array(base.length);
      for (let i = 0; i < base.length; i++) {
        const at = (delta: number) =>
          ops.tidy(() => {
            const moved = base.slice();
            moved[i] += delta;
            return f(...args.map((a, j) => (j === k ? ops.tensor(moved, arg.shape) : a))).dataSync()[0];
          });
        numeric[i] = (at(eps) - at(-eps)) / (2 * eps);
      }
      const analytic = grads[k].dataSync();
      const scale = numeric.reduce((s, v) => Math.max(s, Math.abs(v)), 1e-2);
      for (let i = 0; i < numeric.length; i++) {
        const err = Math.abs(analytic[i] - numeric[i]) / scale;
        if (!(err <= rtol)) throw new GradientMismatchError(name(k), i, analytic[i], numeric[i]);
        worst = Math.max(worst, err);
      }
    });
    return worst;
  } finally {
    ops.dispose(grads);
  }
}

/**
 * checkGradients for a layer: the gradient of sum(apply(params, inputs) * R),
 * R a fixed random tensor, with respect to every input (unless `inputs:
 * false`) and every trainable weight, in inference mode.
 */
export function checkLayerGradients(
  layer: Layer,
  params: Weights,
  inputs: ops.Tensor[],
  options: GradientCheckOptions & { inputs?: boolean; mask?: ops.Tensor | null | (ops.Tensor | null)[] } = {},
): number {
  const names = Object.keys(params);
  const withInputs = options.inputs ?? true;
  const call = (xs: ops.Tensor[], ws: ops.Tensor[]) =>
    layer.apply(Object.fromEntries(names.map((n, i) => [n, ws[i]])), {}, xs.length > 1 ? xs : xs[0], { training: false, mask: options.mask }).outputs as ops.Tensor;
  const shape = ops.tidy(() => call(inputs, names.map((n) => params[n])).shape);
  const r = ops.randomNormal(shape, 0, 1, 'float32', 99);
  try {
    const args = [...(withInputs ? inputs : []), ...names.map((n) => params[n])];
    const f = (...a: ops.Tensor[]) => {
      const xs = withInputs ? a.slice(0, inputs.length) : inputs;
      return ops.sum(ops.mul(call(xs, withInputs ? a.slice(inputs.length) : a), r)) as ops.Scalar;
    };
    const labels = [...(withInputs ? inputs.map((_, i) => `input ${i}`) : []), ...names];
    return checkGradients(f, args, { ...options, names: labels });
  } finally {
    r.dispose();
  }
}

/** A layer's params for gradient checks: its initial shapes, with seeded uniform values in [-0.8, 0.8] (no zeros or ones to hide a mistake). */
export function randomParams(layer: Layer, inputShape: Shapes, seed = 10): Weights {
  const init = layer.init(makeKey(2), inputShape);
  ops.dispose(Object.values(init.state as Weights));
  return Object.fromEntries(
    Object.entries(init.params as Weights).map(([k, v], i) => {
      const r = ops.randomUniform(v.shape, -0.8, 0.8, 'float32', seed + i);
      v.dispose();
      return [k, r];
    }),
  );
}
