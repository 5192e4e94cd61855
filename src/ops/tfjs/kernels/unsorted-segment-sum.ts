/**
 * UnsortedSegmentSum for the wasm backend, which has none: the gradient of
 * Gather (Embedding's lookup) needs it. Built on wasm's ScatterNd, which adds
 * the updates of duplicate indices (checked in
 * test/core/unsorted-segment-sum.test.ts). Memory is the output plus the data,
 * never [numSegments, n] as a one-hot matmul would need for a big vocabulary.
 *
 * Semantics as TensorFlow's: segment ids of any shape that prefixes x's;
 * output [numSegments, ...x.shape[ids.rank:]]; ids outside
 * [0, numSegments) are dropped.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asTensor } from './tensor-view.js';

const unsortedSegmentSum: tf.KernelFunc = ({ inputs, attrs }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const rest = x.shape.slice(segmentIds.shape.length);
  const n = tf.util.sizeFromShape(segmentIds.shape);
  return tf.tidy(() => {
    if (n === 0) return tf.zeros([numSegments, ...rest], x.dtype);
    const raw = tf.reshape(asTensor(segmentIds), [n]);
    const ids = raw.dtype === 'int32' ? raw : tf.cast(raw, 'int32');
    // ScatterNd does not check its indices: out-of-range ids go to a spare last row, sliced off.
    const valid = tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, numSegments));
    const safe = tf.where(valid, ids, tf.scalar(numSegments, 'int32'));
    const updates = tf.reshape(asTensor(x), [n, ...rest]);
    const sums = tf.scatterND(tf.reshape(safe, [n, 1]), updates, [numSegments + 1, ...rest]);
    return tf.slice(sums, 0, numSegments);
  });
};

let registered = false;

/** Registers the kernel on wasm (unless wasm has one of its own). Idempotent. */
export function registerUnsortedSegmentSumKernel(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum });
}
