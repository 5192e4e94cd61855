export { EPSILON, alignTargets, alignWeights } from './align.js';
export { REDUCTIONS, type Reduction, type LossConfig, type LossFunction, type LossFn, lossFactory, wrapLossFn } from './loss.js';
export {
  meanSquaredError,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredLogarithmicError,
  logCosh,
  huber,
  MeanSquaredError,
  MeanAbsoluteError,
  MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError,
  LogCosh,
  Huber,
} from './regression.js';
export { maybeConvertLabels, hinge, squaredHinge, categoricalHinge, Hinge, SquaredHinge, CategoricalHinge } from './hinge.js';
export {
  sigmoidCrossEntropyWithLogits,
  binaryCrossentropy,
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
  BinaryCrossentropy,
  CategoricalCrossentropy,
  SparseCategoricalCrossentropy,
} from './crossentropy.js';
export { klDivergence, poisson, KLDivergence, Poisson } from './probabilistic.js';
export { l2Normalize, cosineSimilarity, cosineSimilarityValue, CosineSimilarity } from './cosine-similarity.js';
export { LOSS_CLASSES, LOSS_FUNCTIONS, LOSS_NAMES, type LossSpec, getLoss, serializeLoss } from './registry.js';
export { registerLoss, registerLossClass, customLossNames, type LossFromConfig } from './registry.js';
export { computeLoss } from './reduce.js';
export { classWeightsToSampleWeights } from './class-weight.js';
