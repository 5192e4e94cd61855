/**
 * Gradient checks for layer tests: the analytic gradient of
 * sum(apply(params, inputs) * R) with respect to every input and trainable
 * weight, against central finite differences in float32.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { makeKey } from '../../src/core/rng.js';
import type { Layer, Weights } from '../../src/layers/layer.js';

export interface GradCheckOptions {
  eps?: number;
  rtol?: number;
  /** Only these inputs are differentiated (default all). */
  inputs?: boolean;
  mask?: (tf.Tensor | null)[] | tf.Tensor | null;
}

/** Throws when an analytic gradient differs from finite differences by more than rtol (relative to its largest entry, floor 1e-2). */
export function checkGradients(layer: Layer, params: Weights, inputs: tf.Tensor[], o: GradCheckOptions = {}): number {
  const eps = o.eps ?? 1e-2;
  const rtol = o.rtol ?? 2e-2;
  const pNames = Object.keys(params);
  const multi = inputs.length > 1;
  const f = (xs: tf.Tensor[], ws: tf.Tensor[], r: tf.Tensor): tf.Scalar => {
    const p = Object.fromEntries(pNames.map((n, i) => [n, ws[i]]));
    const out = layer.apply(p, {}, multi ? xs : xs[0], { training: false, mask: o.mask });
    return tf.sum(tf.mul(out.outputs as tf.Tensor, r));
  };
  const probe = layer.apply(params, {}, multi ? inputs : inputs[0], { training: false, mask: o.mask });
  const r = tf.randomNormal((probe.outputs as tf.Tensor).shape, 0, 1, 'float32', 99);
  tf.dispose(probe.outputs as tf.Tensor);
  const withInputs = o.inputs ?? true;
  const args = [...(withInputs ? inputs : []), ...pNames.map((n) => params[n])];
  const grads = tf.grads((...a: tf.Tensor[]) => {
    const xs = withInputs ? a.slice(0, inputs.length) : inputs;
    const ws = withInputs ? a.slice(inputs.length) : a;
    return f(xs, ws, r);
  })(args);
  let worst = 0;
  args.forEach((arg, k) => {
    const base = arg.dataSync().slice();
    const numeric = new Float32Array(base.length);
    for (let i = 0; i < base.length; i++) {
      const value = (delta: number) => {
        const moved = base.slice();
        moved[i] += delta;
        const t = tf.tensor(moved, arg.shape);
        const all = args.map((a, j) => (j === k ? t : a));
        const xs = withInputs ? all.slice(0, inputs.length) : inputs;
        const ws = withInputs ? all.slice(inputs.length) : all;
        const v = tf.tidy(() => f(xs, ws, r).dataSync()[0]);
        t.dispose();
        return v;
      };
      numeric[i] = (value(eps) - value(-eps)) / (2 * eps);
    }
    const analytic = grads[k].dataSync();
    let scale = 1e-2;
    for (const v of numeric) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < numeric.length; i++) {
      const err = Math.abs(analytic[i] - numeric[i]) / scale;
      worst = Math.max(worst, err);
      assert.ok(err <= rtol, `gradient of argument ${k} (${k < (withInputs ? inputs.length : 0) ? 'input' : pNames[k - (withInputs ? inputs.length : 0)]}) at ${i}: analytic ${analytic[i]} vs numeric ${numeric[i]} (scale ${scale})`);
    }
  });
  tf.dispose([r, ...grads]);
  return worst;
}

/** Inits a layer and replaces its params with seeded uniform values in [-0.8, 0.8]. */
export function randomParams(layer: Layer, shape: Parameters<Layer['init']>[1], seed = 10): Weights {
  const init = layer.init(makeKey(2), shape);
  tf.dispose(Object.values(init.state));
  return Object.fromEntries(
    Object.entries(init.params).map(([k, v], i) => {
      const r = tf.randomUniform(v.shape, -0.8, 0.8, 'float32', seed + i);
      v.dispose();
      return [k, r];
    }),
  );
}

/**
 * A toy task: `steps` of plain gradient descent on the mean squared error
 * between the layer's output and a fixed target; returns the first and last
 * losses. Disposes everything it made.
 */
export function trainToy(layer: Layer, params: Weights, inputs: tf.Tensor[], target: tf.Tensor, steps = 30, lr = 0.1): [number, number] {
  const names = Object.keys(params);
  let ws = names.map((n) => tf.clone(params[n]));
  const multi = inputs.length > 1;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { value, grads } = tf.valueAndGrads((...a: tf.Tensor[]) => {
      const p = Object.fromEntries(names.map((n, i) => [n, a[i]]));
      const out = layer.apply(p, {}, multi ? inputs : inputs[0], { training: true, key: s + 1 });
      return tf.mean(tf.squaredDifference(out.outputs as tf.Tensor, target)) as tf.Scalar;
    })(ws);
    losses.push(value.dataSync()[0]);
    const next = ws.map((w, i) => tf.tidy(() => tf.sub(w, tf.mul(grads[i], lr))));
    tf.dispose([value, ...grads, ...ws]);
    ws = next;
  }
  tf.dispose(ws);
  return [losses[0], losses[losses.length - 1]];
}
