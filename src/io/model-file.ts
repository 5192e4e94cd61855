import * as ops from '../ops/index.js';
import { ConfigDecodeError, Hdf5FormatError, InvalidArgumentError, RxKerasError, ShapeMismatchError } from '../core/errors.js';
import { disposeReplaced, fromLeaves, leaves, type TensorTree } from '../core/tree.js';
import { getOptimizer, serializeOptimizer, type Optimizer, type OptimizerState, type ParamPaths } from '../optimizers/index.js';
import { serializeLoss, type LossSpec } from '../losses/index.js';
import type { CompileArgs, Compiled } from '../training/compile.js';
import type { MetricsArg } from '../training/compile-metrics.js';
import type { Module } from '../training/module.js';
import type { TrainingSetup, Variables } from '../training/types.js';
import { getGroup, readArray, readStringAttr, readStringListAttr, writeStringListAttr, wrapH5Error, type H5File, type H5Group, withH5Write } from '../core/hdf5.js';
import { KERAS_BACKEND, KERAS_VERSION, modelToConfig } from './model-to-config.js';
import { relocate } from './relocate.js';
import { lossAndMetrics } from './training-config.js';
import { atomicWrite, modelSlots, writeTensor, writeWeightsGroup, type LoadWeightsOptions, type WeightSlot } from './weights.js';

export interface LoadModelOptions extends Pick<LoadWeightsOptions, 'onWarning'> {
  /** Load the training configuration and optimizer state when the file has them (default true, as Keras's `compile=True`). */
  compile?: boolean;
  /** Seed of the training randomness of the compiled model (shuffling, dropout), as `compile(args, seed)`. */
  seed?: number;
}

/** What a Keras whole-model file holds, as values. */
export interface ModelFileContents {
  /** Keras's `{ class_name, config }` of the model. */
  modelConfig: { class_name: string; config: Record<string, unknown> };
  /** The model's layers in Keras's order with their weights. */
  weights: { layer: { name: string }; slots: WeightSlot[] }[];
  /** Keras's `training_config`, when the model is compiled. */
  trainingConfig?: Record<string, unknown>;
  /** The optimizer's weights with Keras's names, when it has state. */
  optimizerWeights?: [string, ops.Tensor][];
}

/**
 * The contents of a whole-model file for `module` with `variables` and,
 * when compiled, its training setup. The optimizer weights are new tensors,
 * owned by the caller (see {@link disposeContents}); the rest are lent.
 */
export function modelFileContents(module: Module, variables: Variables, setup?: Pick<TrainingSetup, 'compiled' | 'optState'>): ModelFileContents {
  const contents: ModelFileContents = { modelConfig: modelToConfig(module), weights: modelSlots(module, variables) };
  if (setup) contents.trainingConfig = trainingConfigOf(setup);
  if (setup && setup.optState !== undefined) {
    const { paths } = trainableParamPaths(module, variables);
    contents.optimizerWeights = (setup.compiled.optimizer as Optimizer).weights(setup.optState as OptimizerState, paths as ParamPaths);
  }
  return contents;
}

/** Frees the tensors {@link modelFileContents} made. */
export function disposeContents(contents: ModelFileContents): void {
  ops.dispose((contents.optimizerWeights ?? []).map(([, t]) => t));
}

/**
 * Keras `model.save(path)` (HDF5) from values: root attributes
 * `keras_version`, `backend`, `model_config`, `training_config` (when
 * compiled), the `model_weights` group, and `optimizer_weights` (when the
 * optimizer has state) named as tf.keras 2 names them. Written atomically:
 * a save that fails leaves the previous file as it was.
 */
export async function writeModelFile(path: string, contents: ModelFileContents): Promise<void> {
  const modelConfig = JSON.stringify(contents.modelConfig);
  const trainingConfig = contents.trainingConfig ? JSON.stringify(contents.trainingConfig) : undefined;
  const optWeights = contents.optimizerWeights;
  await atomicWrite(path, (tmp) =>
    withH5Write(tmp, (file) => {
      file.create_attribute('keras_version', KERAS_VERSION);
      file.create_attribute('backend', KERAS_BACKEND);
      file.create_attribute('model_config', modelConfig);
      if (trainingConfig) file.create_attribute('training_config', trainingConfig);
      writeWeightsGroup(file.create_group('model_weights'), contents.weights);
      if (optWeights) {
        const g = file.create_group('optimizer_weights');
        writeStringListAttr(g, 'weight_names', optWeights.map(([n]) => n));
        for (const [name, t] of optWeights) writeTensor(g, name, t, true);
      }
    }),
  );
}

/** Keras's `training_config`: optimizer_config, loss, metrics, loss_weights, as tf.keras 2 writes them. */
export function trainingConfigOf(setup: Pick<TrainingSetup, 'compiled' | 'optState'>): Record<string, unknown> {
  const args = setup.compiled.args;
  return {
    loss: serializeLossArg(args.loss),
    metrics: args.metrics === undefined ? [] : serializeMetricsArg(args.metrics),
    weighted_metrics: args.weightedMetrics === undefined ? null : serializeMetricsArg(args.weightedMetrics),
    loss_weights: args.lossWeights ?? null,
    sample_weight_mode: null,
    optimizer_config: serializeOptimizer(setup.compiled.optimizer, setup.optState as OptimizerState | undefined),
  };
}

function serializeLossArg(loss: CompileArgs['loss']): unknown {
  const one = (l: LossSpec): unknown => {
    if (typeof l === 'string') return l;
    if (typeof l === 'function') throw new ConfigDecodeError('loss', 'a loss Keras can name (a string, { class_name, config } or a built-in loss)', 'a plain function');
    if ('fn' in l) return serializeLoss(l);
    return l;
  };
  if (Array.isArray(loss)) return loss.map(one);
  if (typeof loss === 'object' && loss !== null && !('class_name' in loss) && !('fn' in loss))
    return Object.fromEntries(Object.entries(loss as Record<string, LossSpec>).map(([k, v]) => [k, one(v)]));
  return one(loss as LossSpec);
}

/** Metrics as Keras writes them: names, `{ class_name, config }` (a `MeanMetricWrapper` with its `fn`), in the lists and dicts given. */
function serializeMetricsArg(metrics: MetricsArg): unknown {
  if (metrics === null || typeof metrics === 'string') return metrics;
  if (typeof metrics === 'function') return metrics.name || 'metric';
  if (Array.isArray(metrics)) return metrics.map(serializeMetricsArg);
  if ('class_name' in metrics && typeof metrics.class_name === 'string') return metrics;
  if ('className' in metrics) {
    const named = metrics as { className: string; config: Record<string, unknown>; name: string };
    if (named.className === 'MeanMetricWrapper' && !('fn' in named.config)) return named.name;
    return { class_name: named.className, config: { ...named.config } };
  }
  return Object.fromEntries(Object.entries(metrics as Record<string, MetricsArg>).map(([k, v]) => [k, serializeMetricsArg(v)]));
}

/** The trainable params in Keras's order (model layer order) with their tree paths and Keras names. */
function trainableParamPaths(module: Module, v: Variables): { paths: [string, string][]; trainable: Set<string> } {
  const trainable = module.trainablePaths(v.params);
  const paths: [string, string][] = [];
  for (const { slots } of modelSlots(module, v))
    for (const s of slots) if (s.kind === 'params' && trainable.has(s.path)) paths.push([s.path, s.name.replace(/:0$/, '')]);
  return { paths, trainable };
}

/** The root `model_config` attribute of a whole-model file (a JSON string), or a Hdf5FormatError. */
export function readModelConfig(file: H5File): string {
  const text = readStringAttr(file, file as H5Group, 'model_config');
  if (text === undefined) throw new Hdf5FormatError(file.filename, '/@model_config', 'missing attribute: no model found in the file (a weights-only file? use loadWeights)');
  return text;
}

/**
 * The compile arguments of a file's `training_config` (optimizer, loss,
 * metrics, weighted metrics, loss weights), or undefined when the file has none. Errors name
 * the path of the bad field in `training_config`.
 */
export function readCompileArgs(file: H5File): CompileArgs | undefined {
  const text = readStringAttr(file, file as H5Group, 'training_config');
  if (text === undefined) return undefined;
  const where = trainingConfigWhere(file);
  let tc: Record<string, unknown>;
  try {
    tc = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigDecodeError('(root)', 'valid JSON', (e as Error).message, where);
  }
  if (typeof tc !== 'object' || tc === null || Array.isArray(tc)) throw new ConfigDecodeError('(root)', 'an object', tc, where);
  const oc = tc.optimizer_config;
  if (typeof oc !== 'object' || oc === null || typeof (oc as Record<string, unknown>).class_name !== 'string')
    throw new ConfigDecodeError('optimizer_config', '{ class_name, config }', oc, where);
  const spec = oc as { class_name: string; config?: Record<string, unknown> };
  let optimizer: Optimizer;
  try {
    optimizer = getOptimizer({ class_name: spec.class_name, config: { ...(spec.config ?? {}) } });
  } catch (e) {
    throw relocate(e, 'optimizer_config.config', where);
  }
  const args: CompileArgs = { optimizer, ...lossAndMetrics(tc, where) };
  if (tc.loss_weights !== undefined && tc.loss_weights !== null) args.lossWeights = tc.loss_weights as CompileArgs['lossWeights'];
  return args;
}

/** Where a file's training config is, for error messages. */
export function trainingConfigWhere(file: H5File): string {
  return `${file.filename}@training_config`;
}

/**
 * The optimizer state stored in a file's `optimizer_weights` (in the order
 * of its `weight_names`) for `compiled`'s optimizer over the trainable
 * params of `module` with `variables`; undefined when the file has none.
 * Arrays that do not fit the optimizer (another count or shape: a file
 * saved before the first step holds only `iter`, a Keras 1 file its own
 * slots) are skipped with one warning (undefined: a fresh optimizer
 * state), as Keras's `load_model` does when `set_weights` fails.
 */
export function readOptimizerState(
  file: H5File,
  module: Module,
  variables: Variables,
  compiled: Compiled,
  warn: (message: string) => void,
): Pick<TrainingSetup, 'optState' | 'optPaths' | 'step'> | undefined {
  const root = file as H5Group;
  if (!root.get('optimizer_weights')) return undefined;
  const group = getGroup(file, root, 'optimizer_weights');
  const names = readStringListAttr(file, group, 'weight_names') ?? [];
  if (names.length === 0) return undefined;
  const values = names.map((n) => {
    const a = readArray(file, group, n);
    return ops.tensor(a.data, a.shape, a.dtype) as ops.Tensor;
  });
  const { paths, trainable } = trainableParamPaths(module, variables);
  const optimizer = compiled.optimizer as Optimizer;
  const fresh = optimizer.init(fromLeaves(leaves(variables.params).filter(([p]) => trainable.has(p))) as TensorTree);
  try {
    const state = optimizer.setWeights(fresh, values, paths as ParamPaths);
    disposeReplaced(fresh, state);
    return { optState: state, optPaths: [...trainable].join('|'), step: state.iterations };
  } catch (e) {
    disposeReplaced(fresh, undefined);
    if (e instanceof InvalidArgumentError || e instanceof ShapeMismatchError) {
      const shown = names.length > 4 ? `${names.slice(0, 3).join(', ')}, ... ${names[names.length - 1]}` : names.join(', ');
      warn(
        `${file.filename}: skipped the saved optimizer state (/optimizer_weights: ${names.length} arrays, ${shown}): it does not match the ${optimizer.className} optimizer of this model (${e.message}); training starts from a fresh optimizer state, as in Keras`,
      );
      return undefined;
    }
    throw e instanceof RxKerasError ? new Hdf5FormatError(file.filename, '/optimizer_weights', e.message) : wrapH5Error(e, file.filename, '/optimizer_weights', 'cannot restore the optimizer state');
  } finally {
    for (const t of values) t.dispose();
  }
}
