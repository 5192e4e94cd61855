/**
 * Keras's callbacks as RxJS operators on the training event stream
 * (`OperatorFunction<FitEvent, FitEvent>`): pass them to `model.fit(x, y, { callbacks })`
 * or pipe them onto `model.fit$(x, y)`.
 */
export { History } from './history.js';
export { progbar, formatLogs, type ProgbarOptions, type ProgbarStream } from './progbar.js';
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
export { ModelCheckpoint, filePath as checkpointPath, type ModelCheckpointOptions } from './model-checkpoint.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau.js';
export { LearningRateScheduler, type EpochSchedule, type LearningRateSchedulerOptions } from './learning-rate-scheduler.js';
export { CSVLogger, type CSVLoggerOptions } from './csv-logger.js';
export { TerminateOnNaN, type TerminateOnNaNOptions } from './terminate-on-nan.js';
export { LambdaCallback, type LambdaCallbackHooks } from './lambda-callback.js';
export { TensorBoard, type TensorBoardOptions } from './tensorboard/index.js';
export { callbackOperator, type CallbackHandlers } from './callback-operator.js';
export { pyFormat, formatSpec, pyRepr, type PyNumber } from './python-format.js';
