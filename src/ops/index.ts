/**
 * The op namespace every layer, loss, metric and optimizer computes through,
 * in the spirit of `keras.ops`. It is the one place that knows the tensor
 * library: today it forwards to tfjs-core. Add an op here (a re-export, or a
 * few lines where tfjs's signature is not the right one) before using it.
 */
export {
  Tensor, type TensorContainer, type Scalar, type Tensor1D, type Tensor2D, type Tensor3D, type Tensor4D, type Tensor5D, Variable,
  type Rank,
  type DataType,
  abs, acos, add, addN, all, any, argMax, argMin, asin, atan, atan2, avgPool, avgPool3d, basicLSTMCell,
  batchNorm, broadcastTo, buffer, cast, ceil, clipByValue, clone, concat, conv1d, conv2d, conv2dTranspose,
  conv3d, conv3dTranspose, cos, cosh, cumsum, depthwiseConv2d, div, divNoNan, dot, dropout, elu, equal,
  erf, exp, expandDims, expm1, eye, fill, floor, floorDiv, gather, gatherND, greater, greaterEqual,
  image, isFinite, isNaN, leakyRelu, less, lessEqual, linspace, log, log1p, logicalAnd, logicalNot,
  logicalOr, logSigmoid, logSoftmax, logSumExp, matMul, max, maxPool, maxPool3d, maximum, mean, min,
  minimum, mirrorPad, mod, moments, mul, multinomial, neg, norm, notEqual, oneHot, ones, onesLike, outerProduct,
  pad, pow, prelu, prod, randomNormal, randomUniform, range, reciprocal, relu, relu6, reshape, reverse,
  round, rsqrt, scalar, selu, separableConv2d, sigmoid, sign, sin, sinh, slice, softmax, softplus, split,
  sqrt, square, squaredDifference, squeeze, stack, step, stridedSlice, sub, sum, tan, tanh, tensor,
  tensor1d, tensor2d, tensor3d, tensor4d, tensor5d, tile, topk, transpose, truncatedNormal, unsortedSegmentSum,
  unstack, where, zeros, zerosLike, tidy, keep, dispose, memory, grad, grads, valueAndGrad, valueAndGrads,
  customGrad, einsum, fused, inTopKAsync, linalg, losses, util, env, backend, getBackend, engine,
} from '@tensorflow/tfjs-core';
