/**
 * Training over explicit state: the pure steps (a gradient step, an update,
 * their composition), and the fit / evaluate / predict loops over a Module
 * and a TrainState. Nothing here holds weights; the Keras facade
 * (src/models) does.
 */
export type { Module } from './module.js';
export type { Batch, Logs, TrainState, TrainingSetup, Variables } from './types.js';
export { gradientStep, applyGradients, trainStep, testStep, predictStep, type StepResult, type GradientStepResult } from './steps.js';
export { compile, type CompileArgs, type Compiled } from './compile.js';
export type { CompiledMetric, MetricsArg } from './compile-metrics.js';
export { requireSetup, startState, commitSetup } from './setup.js';
export { fitLoop$, type FitData, type FitOptions } from './fit.js';
export { localRunner, type StepRunner } from './step-runner.js';
export type { FitEvent, FitParams, TrainingControl, Callback } from './events.js';
export { evaluateArrays, evaluateDataset, evaluateSource, type EvaluateOptions } from './evaluate.js';
export { predictArrays, predictDataset, type PredictOptions } from './predict.js';
export { trainOnBatch, testOnBatch, type OnBatchOptions } from './on-batch.js';
export { prepareData, dataInputShape, toTensors, type DataArg, type ArrayLike } from './data.js';
export { EpochLogs, disposeStepResult } from './logs.js';
export { datasetSource, tensorSource, type BatchSource } from './batch-source.js';
export { splitRows } from './split-rows.js';
