import * as tf from '@tensorflow/tfjs-core';

/**
 * A Tensor for a kernel input. Ops pass Tensors; a bare TensorInfo (another
 * kernel's intermediate, or any input while profiling) gets a view that holds
 * its own reference to the data, so disposing the view (a tidy does) leaves
 * the caller's data alive.
 */
export function asTensor(info: tf.TensorInfo): tf.Tensor {
  if (info instanceof tf.Tensor) return info;
  (tf.backend() as unknown as { incRef(dataId: tf.DataId): void }).incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info);
}
