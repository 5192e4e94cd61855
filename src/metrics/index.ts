export { type MeanState, emptyMeanState, weightedStats, readStats, accumulate, mergeStates, meanOf, type MeanMetric, Mean } from './mean.js';
export { type Metric, type MetricFn, meanMetricWrapper, metricFactory } from './metric.js';
export {
  accuracy,
  binaryAccuracy,
  categoricalAccuracy,
  sparseCategoricalAccuracy,
  topKCategoricalAccuracy,
  sparseTopKCategoricalAccuracy,
  inTopK,
  Accuracy,
  BinaryAccuracy,
  CategoricalAccuracy,
  SparseCategoricalAccuracy,
  TopKCategoricalAccuracy,
  SparseTopKCategoricalAccuracy,
} from './accuracy.js';
export {
  MeanSquaredError,
  MeanAbsoluteError,
  MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError,
  RootMeanSquaredError,
  CosineSimilarity,
  Hinge,
  SquaredHinge,
  CategoricalHinge,
  LogCoshError,
  Poisson,
  KLDivergence,
} from './regression.js';
export { BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy } from './crossentropy.js';
export {
  METRIC_CLASSES,
  METRIC_NAMES,
  type MetricSpec,
  type OutputShapes,
  type TargetKind,
  getMetric,
  targetKind,
  resolveMetric,
} from './registry.js';
export { registerMetric, registerMetricClass, customMetricNames, type MetricFromConfig } from './registry.js';
