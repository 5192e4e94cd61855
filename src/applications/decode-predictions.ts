import * as ops from '../ops/index.js';
import { ShapeMismatchError } from '../core/errors.js';
import classIndex from './imagenet-class-index.json' with { type: 'json' };

/** One guess: the WordNet id, the class name, the score (Keras's tuple `(class_name, class_description, score)`). */
export type Prediction = [wnid: string, name: string, score: number];

const INDEX = classIndex as unknown as Record<string, [string, string]>;

/**
 * Keras's `decode_predictions(preds, top=5)`: for each row of a (samples, 1000)
 * batch of ImageNet scores, the `top` classes by decreasing score (ties: the
 * lower class index first), named from the ImageNet class index shipped with rxkeras.
 */
export function decodePredictions(preds: ops.Tensor | number[][], top = 5): Prediction[][] {
  const rows = preds instanceof ops.Tensor ? (preds.rank === 2 ? (preds.arraySync() as number[][]) : null) : preds;
  const shape = preds instanceof ops.Tensor ? preds.shape : [preds.length, preds[0]?.length ?? 0];
  if (!rows || rows.some((r) => r.length !== 1000))
    throw new ShapeMismatchError('decodePredictions: a batch of ImageNet predictions', [null, 1000], shape);
  return rows.map((row) =>
    row
      .map((score, i) => [i, score] as const)
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, top)
      .map(([i, score]): Prediction => [INDEX[String(i)][0], INDEX[String(i)][1], score]),
  );
}
