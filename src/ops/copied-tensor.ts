import * as tf from '@tensorflow/tfjs-core';

/**
 * A new tensor with a copy of `values`, which stay the caller's (a view of
 * memory about to be rewritten, such as a shared buffer): copied once. The
 * wasm backend copies an array into its memory when it makes the tensor,
 * so the view goes as it is; the cpu backend keeps the array it is given,
 * so it gets a copy. (Copying first everywhere cost a fresh array per
 * value: ~3 ms of page faults for an MLP's 8 MB training state.)
 */
export function copiedTensor(values: Float32Array | Int32Array, shape: number[], dtype: 'float32' | 'int32'): tf.Tensor {
  return tf.tensor(tf.getBackend() === 'wasm' ? values : values.slice(), shape, dtype);
}
