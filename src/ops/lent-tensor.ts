import * as tf from '@tensorflow/tfjs-core';
import { compiledBackend, compiledStepsEnabled } from './compiled/index.js';
import { copiedTensor } from './copied-tensor.js';

/**
 * A tensor over `data`, which the caller lends: it reuses the array once
 * `release` has been called. Where steps are compiled, the compiled backend
 * adopts the array without a copy and releases it when the tensor is
 * disposed (a training step then reads it in place); elsewhere it is copied
 * into a tensor of the active backend and released at once.
 */
export function lentTensor(data: Float32Array | Int32Array, shape: number[], dtype: 'float32' | 'int32', release: () => void): tf.Tensor {
  if (compiledStepsEnabled()) return compiledBackend().lend(data, shape, dtype, release);
  try {
    return copiedTensor(data, shape, dtype);
  } finally {
    release();
  }
}
