/**
 * Optimizers as Optax-style gradient transformations over parameter trees,
 * and the tf.keras 2 optimizers (SGD, RMSprop, Adam, Adagrad, Adadelta,
 * Adamax, Nadam) built from them, with Keras's learning-rate schedules.
 */
export {
  type GradientTransformation,
  type TransformResult,
  type EmptyState,
  type ChainState,
  ChainError,
  identity,
  chain,
  applyUpdates,
  isTransformation,
} from './transformation.js';
/** An optimizer state's tensors, and their disposal, through the pytree module (any transformation's state). */
export { disposeTree as disposeState, tensors as stateTensors } from '../core/tree.js';
export { clipByValue, clipByNorm, clipByGlobalNorm, globalNorm } from './clipping.js';
export { type Hyper, scale, scaleByLearningRate, addDecayedWeights } from './scale.js';
export { type TraceState, type TraceOptions, trace } from './trace.js';
export {
  type ScaleByAdamOptions,
  type ScaleByAdamState,
  type ScaleByAdamaxState,
  type ScaleByNadamOptions,
  type ScaleByNadamState,
  type ScaleByRmsOptions,
  type ScaleByRmsState,
  type ScaleByRssOptions,
  type ScaleByRssState,
  type ScaleByAdadeltaOptions,
  type ScaleByAdadeltaState,
  scaleByAdam,
  scaleByAdamax,
  scaleByNadam,
  scaleByRms,
  scaleByRss,
  scaleByAdadelta,
} from './adaptive.js';
export {
  type HyperValue,
  type InjectedState,
  injectHyperparams,
  isInjectedState,
  getHyperparam,
  getHyperparamValue,
  setHyperparam,
  getLearningRate,
  setLearningRate,
  getIterations,
} from './inject.js';
export {
  type Schedule,
  type LearningRateSchedule,
  type ScheduleSpec,
  type ExponentialDecayArgs,
  type PiecewiseConstantDecayArgs,
  type PolynomialDecayArgs,
  type InverseTimeDecayArgs,
  type CosineDecayArgs,
  type CosineDecayRestartsArgs,
  ExponentialDecay,
  PiecewiseConstantDecay,
  PolynomialDecay,
  InverseTimeDecay,
  CosineDecay,
  CosineDecayRestarts,
  getSchedule,
  serializeSchedule,
  isSchedule,
  scheduleNames,
} from './schedules.js';
export {
  type Optimizer,
  type LearningRateArg,
  type OptimizerArgs,
  type SGDArgs,
  type RMSpropArgs,
  type AdamArgs,
  type AdagradArgs,
  type AdadeltaArgs,
  type AdamaxArgs,
  type NadamArgs,
  SGD,
  RMSprop,
  Adam,
  Adagrad,
  Adadelta,
  Adamax,
  Nadam,
} from './keras.js';
export { type OptimizerSpec, getOptimizer, serializeOptimizer, isOptimizer, optimizerNames } from './get-optimizer.js';
export { findSlots, optimizerWeights, rebuild, setOptimizerWeights, type OptimizerState, type ParamPaths, type WeightLayout } from './keras-weights.js';
