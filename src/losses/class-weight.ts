import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';

/**
 * Per-sample weights from a `class_weight` map, as tf.keras 2's data adapter
 * makes them: the class of a sample is `argmax(y)` for one-hot targets
 * (rank 2, more than one column) and the target itself, truncated to an
 * integer, otherwise (sparse `[batch]` / `[batch, 1]` labels or binary 0/1
 * targets). As in Keras, the keys must be exactly `0 .. n-1`, targets of
 * rank above 2 are refused, and a class outside the keys is an error.
 * (Keras also refuses `class_weight` together with `sample_weight`; that
 * check belongs to the caller.) Returns a `[batch]` float32 tensor the
 * caller owns.
 */
export function classWeightsToSampleWeights(yTrue: ops.Tensor, classWeight: Readonly<Record<number, number>>): ops.Tensor {
  const keys = Object.keys(classWeight)
    .map(Number)
    .sort((a, b) => a - b);
  if (keys.length === 0 || keys.some((k, i) => k !== i))
    throw new InvalidArgumentError('class_weight', 'a map with keys from 0 to one less than the number of classes', classWeight);
  if (yTrue.rank > 2) throw new InvalidArgumentError('class_weight', 'targets of rank 1 or 2 (class_weight is not supported for 3+ dimensional targets)', yTrue.shape);
  const table = keys.map((k) => {
    const w = classWeight[k];
    if (typeof w !== 'number' || !Number.isFinite(w)) throw new InvalidArgumentError(`class_weight[${k}]`, 'a finite number', w);
    return w;
  });
  const oneHot = yTrue.rank === 2 && (yTrue.shape[1] ?? 1) > 1;
  const ids = ops.tidy(() => (oneHot ? ops.argMax(yTrue, 1) : ops.reshape(yTrue, [-1])));
  const classes = ids.dataSync();
  ids.dispose();
  const weights = new Float32Array(classes.length);
  for (let i = 0; i < classes.length; i++) {
    const c = Math.trunc(classes[i]);
    if (!(c >= 0 && c < table.length)) throw new InvalidArgumentError(`class_weight: class of sample ${i}`, `one of the keys 0..${table.length - 1}`, classes[i]);
    weights[i] = table[c];
  }
  return ops.tensor1d(weights, 'float32');
}
