/**
 * rxkeras: a Keras-compatible training engine on RxJS streams and
 * TensorFlow.js. The data side is exported from `rxkeras/streams`.
 */
export { initBackend, BACKENDS, BACKEND_ENV, type BackendName } from './ops/tfjs/backend.js';
export * from './core/errors.js';
export { makeKey, split, foldIn, type Key } from './core/rng.js';
export { resetNames } from './core/names.js';
export type { TensorTree, Tree } from './core/tree.js';
export * as ops from './ops/index.js';
export * from './layers/index.js';
export { Model, Sequential, type ModelArgs, type ModelVariables } from './models/index.js';
export type { SymbolicTensor } from './layers/layer.js';
export * from './optimizers/index.js';
export * as losses from './losses/index.js';
export * as metrics from './metrics/index.js';
export { getLoss, computeLoss, type LossSpec, type LossFunction } from './losses/index.js';
export { getMetric, resolveMetric, type Metric, type MetricSpec } from './metrics/index.js';
export { getActivation, ACTIVATION_NAMES } from './activations/index.js';
export { getInitializer, type Initializer, type InitializerSpec } from './initializers/index.js';
export { getRegularizer, l1l2, type Regularizer } from './regularizers/index.js';
export { getConstraint, type Constraint } from './constraints/index.js';
export {
  gradientStep,
  applyGradients,
  trainStep,
  testStep,
  predictStep,
  fitLoop$,
  type StepResult,
  type GradientStepResult,
  type Module,
  type FitOptions,
  type CompileArgs,
  type Compiled,
  type MetricsArg,
  type FitEvent,
  type FitParams,
  type TrainingControl,
  type Callback,
  type Batch,
  type Logs,
  type TrainState,
  type Variables,
  type DataArg,
  type ArrayLike,
  type EvaluateOptions,
  type PredictOptions,
} from './training/index.js';
export { History } from './callbacks/history.js';
export { progbar, type ProgbarOptions } from './callbacks/progbar.js';
export {
  EarlyStopping,
  ModelCheckpoint,
  ReduceLROnPlateau,
  LearningRateScheduler,
  CSVLogger,
  TerminateOnNaN,
  LambdaCallback,
  TensorBoard,
  callbackOperator,
  type EarlyStoppingOptions,
  type ModelCheckpointOptions,
  type ReduceLROnPlateauOptions,
  type LearningRateSchedulerOptions,
  type EpochSchedule,
  type CSVLoggerOptions,
  type TerminateOnNaNOptions,
  type LambdaCallbackHooks,
  type TensorBoardOptions,
  type CallbackHandlers,
} from './callbacks/index.js';
export * as callbacks from './callbacks/index.js';
export { loadMnist, type DigitsSplit } from './datasets/mnist.js';
export { registerCustomObjects, withCustomObjects, checkCustomObjects, type CustomObjects } from './custom-objects/index.js';
export { registerLoss, registerLossClass, type LossFromConfig } from './losses/index.js';
export { registerMetric, registerMetricClass, type MetricFromConfig } from './metrics/index.js';
export { registerActivation } from './activations/index.js';
export { registerInitializer, type InitializerFromConfig } from './initializers/index.js';
export { registerRegularizer, type RegularizerFromConfig } from './regularizers/index.js';
export { registerConstraint, type ConstraintFromConfig } from './constraints/index.js';
export * as io from './models/io.js';
export { toJSON, toYAML } from './io/index.js';
export { loadModel, saveModel, loadWeights, saveWeights, modelFromJSON, modelFromYAML, modelFromConfig, fit$, evaluate, evaluateDataset, predict, predictDataset } from './models/index.js';
export * as applications from './models/applications.js';
export { initDistributed, LostRankError, GlooUnavailableError, type Collective } from './parallel/index.js';
export { listDevices, configureDevices, disposeDevices, DeviceError, UnknownDeviceError, type DeviceInfo, type DevicesOptions } from './parallel/index.js';
export { multiGpuModel, ParallelModel, type MultiGpuModelOptions } from './models/index.js';
export { distributedModel, DistributedModel, type DistributedFitOptions, type DistributedModelOptions } from './models/index.js';
export * as parallel from './parallel/index.js';
export * as serving from './serving/index.js';
export { microBatch, startServer, ModelServer, dashboard, type ServerOptions, type DashboardOptions } from './serving/index.js';
export { plotModel, modelToDot, plotHistory, type PlotModelOptions, type PlotHistoryOptions } from './plot/index.js';
