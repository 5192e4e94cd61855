import * as tf from '@tensorflow/tfjs-core';
import type { Layer, Weights } from '../../src/layers/layer.js';

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
