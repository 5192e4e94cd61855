import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import {
  categoricalHinge,
  cosineSimilarityValue,
  hinge,
  klDivergence,
  logCosh,
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredError,
  meanSquaredLogarithmicError,
  poisson,
  squaredHinge,
} from '../losses/index.js';
import { meanOf } from './mean.js';
import { metricFactory } from './metric.js';

const none = t.partial({});

export const MeanSquaredError = metricFactory('MeanSquaredError', 'mean_squared_error', none, {}, () => meanSquaredError);
export const MeanAbsoluteError = metricFactory('MeanAbsoluteError', 'mean_absolute_error', none, {}, () => meanAbsoluteError);
export const MeanAbsolutePercentageError = metricFactory(
  'MeanAbsolutePercentageError',
  'mean_absolute_percentage_error',
  none,
  {},
  () => meanAbsolutePercentageError,
);
export const MeanSquaredLogarithmicError = metricFactory(
  'MeanSquaredLogarithmicError',
  'mean_squared_logarithmic_error',
  none,
  {},
  () => meanSquaredLogarithmicError,
);

/** Keras `RootMeanSquaredError`: `sqrt` of the weighted mean of the element-wise squared errors. */
export const RootMeanSquaredError = metricFactory(
  'RootMeanSquaredError',
  'root_mean_squared_error',
  none,
  {},
  () => (yTrue: ops.Tensor, yPred: ops.Tensor) => ops.squaredDifference(yPred, yTrue),
  (state) => Math.sqrt(meanOf(state)),
);

/** Keras `CosineSimilarity` metric: the mean of `sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)` (positive sign). */
export const CosineSimilarity = metricFactory('CosineSimilarity', 'cosine_similarity', t.partial({ axis: t.number }), { axis: -1 }, (a) =>
  cosineSimilarityValue(a.axis),
);

export const Hinge = metricFactory('Hinge', 'hinge', none, {}, () => hinge);
export const SquaredHinge = metricFactory('SquaredHinge', 'squared_hinge', none, {}, () => squaredHinge);
export const CategoricalHinge = metricFactory('CategoricalHinge', 'categorical_hinge', none, {}, () => categoricalHinge);
export const LogCoshError = metricFactory('LogCoshError', 'logcosh', none, {}, () => logCosh);
export const Poisson = metricFactory('Poisson', 'poisson', none, {}, () => poisson);
export const KLDivergence = metricFactory('KLDivergence', 'kullback_leibler_divergence', none, {}, () => klDivergence);
