/**
 * MaxPoolGrad for the wasm backend, computed in JavaScript straight on the
 * backend's heap.
 *
 * The stock wasm MaxPoolGrad computes wrong gradients in tfjs 4.22 (e.g. 2x2
 * stride-2 'valid' pooling). Written with tensor ops it is slow: a tap-by-tap
 * version costs ~3x the stock kernel, and the whole-tensor forms (a window
 * mask from a broadcast Equal against the pooled output, then a min or argMax
 * over the window) are slower still, because wasm's rank-5/6 broadcasting
 * binary ops are generic index loops. One pass over x in JavaScript, reading
 * and writing the heap views, is ~10x faster than the stock kernel.
 *
 * Semantics are the cpu backend's (and TensorFlow's): each window's gradient
 * goes to its first maximum in row-major window order (strict `>` from
 * -Infinity over the positions inside the input, so a window of NaN or
 * -Infinity only gets none), and overlapping windows add up.
 */
import * as tf from '@tensorflow/tfjs-core';

type Values = Float32Array | Int32Array | Uint8Array;

/** The parts of the wasm backend the kernel uses (public methods of BackendWasm). */
interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Values;
}

/** Pool geometry, as tfjs's computePool2DInfo gives it. */
export type PoolInfo = Pick<
  tf.backend_util.Conv2DInfo,
  'batchSize' | 'inHeight' | 'inWidth' | 'inChannels' | 'outHeight' | 'outWidth' | 'strideHeight' | 'strideWidth' | 'filterHeight' | 'filterWidth' | 'padInfo'
>;

/**
 * Adds each window's dy to dx at the window's first maximum of x. dx must
 * hold zeros (or what the gradient adds to). Layout NHWC.
 */
export function maxPoolGradInto(x: ArrayLike<number>, dy: ArrayLike<number>, dx: Float32Array, g: PoolInfo): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = g;
  const best = new Float64Array(c);
  const at = new Int32Array(c);
  let yi = 0;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < ho; r++) {
      const top = r * g.strideHeight - g.padInfo.top;
      const r0 = Math.max(top, 0);
      const r1 = Math.min(top + g.filterHeight, h);
      for (let q = 0; q < wo; q++, yi += c) {
        const left = q * g.strideWidth - g.padInfo.left;
        const c0 = Math.max(left, 0);
        const c1 = Math.min(left + g.filterWidth, w);
        best.fill(-Infinity);
        at.fill(-1);
        for (let i = r0; i < r1; i++)
          for (let j = c0; j < c1; j++) {
            const p = ((b * h + i) * w + j) * c;
            for (let d = 0; d < c; d++) {
              const v = x[p + d]!;
              if (v > best[d]!) {
                best[d] = v;
                at[d] = p + d;
              }
            }
          }
        for (let d = 0; d < c; d++) {
          const p = at[d]!;
          if (p >= 0) dx[p] += dy[yi + d]!;
        }
      }
    }
  }
}

export const maxPoolGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = (attrs ?? {}) as Record<string, unknown>;
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const g = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    a.filterSize as number | [number, number],
    a.strides as number | [number, number],
    1,
    a.pad as 'same' | 'valid' | number,
    a.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const heap = backend as unknown as HeapBackend;
  const out = heap.makeOutput([...input.shape], 'float32');
  if (tf.util.sizeFromShape(input.shape) === 0) return out;
  // Views after the allocation: a heap that grew detaches older ones.
  const dx = heap.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  maxPoolGradInto(heap.typedArrayFromHeap(input), heap.typedArrayFromHeap(dy), dx, g);
  return out;
};
