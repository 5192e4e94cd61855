/**
 * The op namespace every layer, loss, metric, optimizer and stream computes
 * through, in the spirit of `keras.ops`. This folder is the one place that
 * knows the tensor library: today the names forward to tfjs-core, and
 * `ops/tfjs/` holds backend selection, kernels and gradient fixes. The list
 * is what the engine uses (plus the tensor constructors its examples use);
 * add an op here (a re-export, or a few lines where tfjs's signature is not
 * the right one) before using it.
 */
export {
  Tensor,
  type TensorContainer,
  type Scalar,
  type Tensor1D,
  type Tensor2D,
  type Tensor3D,
  type Tensor4D,
  type Tensor5D,
  type Rank,
  type DataType,
  abs, add, addN, all, any, argMax, avgPool, avgPool3d, broadcastTo, cast, clipByValue, clone, concat, conv1d,
  conv2d, conv2dTranspose, conv3d, depthwiseConv2d, dispose, div, elu, equal, erf, exp, expandDims, eye, fill,
  fused, gather, getBackend, grads, greater, greaterEqual, image, isFinite, keep, leakyRelu, less, lessEqual, linalg, log, log1p,
  logicalAnd, logicalOr, logSoftmax, logSumExp, matMul, max, maxPool, maximum, mean, memory, minimum, moments,
  mul, neg, notEqual, oneHot, ones, onesLike, pad, range, relu, relu6, reshape,
  reverse, rsqrt, scalar, selu, separableConv2d, sigmoid, sign, slice, softmax, softplus, split, sqrt, square,
  squaredDifference, squeeze, stack, step, sub, sum, tanh, tensor, tensor1d, tensor2d, tensor3d, tensor4d,
  tidy, tile, transpose, unstack, util, valueAndGrads, where, zeros, zerosLike,
} from '@tensorflow/tfjs-core';
export { releaseAbandonedTape } from './tfjs/tape.js';
export { lentTensor } from './lent-tensor.js';
export { copiedTensor } from './copied-tensor.js';
export { share } from './share.js';
export { randomNormal, randomUniform, truncatedNormal } from './random.js';
export { activeBackend, chosenBackend, describeBackend, wasmThreads } from './tfjs/backend.js';
