import * as ops from '../ops/index.js';
import { ConfigDecodeError, Hdf5FormatError, InvalidArgumentError, RxKerasError, ShapeMismatchError, describe } from '../core/errors.js';
import { disposeReplaced, fromLeaves, leaves, type TensorTree } from '../core/tree.js';
import { getOptimizer, serializeOptimizer, type Optimizer, type OptimizerState, type ParamPaths } from '../optimizers/index.js';
import { serializeLoss, type LossSpec } from '../losses/index.js';
import type { MetricSpec } from '../metrics/index.js';
import type { Model } from '../models/model.js';
import type { CompileArgs } from '../training/compile.js';
import type { TrainingSetup } from '../training/types.js';
import { getGroup, readArray, readStringAttr, readStringListAttr, writeStringListAttr, wrapH5Error, type H5File, type H5Group, withH5Read, withH5Write } from './hdf5.js';
import { KERAS_BACKEND, KERAS_VERSION, modelFromJSON, modelToConfig } from './model-config.js';
import { atomicWrite, fileWeightShapes, modelSlots, planWeights, readWeightsIndex, writeTensor, writeWeightsGroup, type LoadWeightsOptions } from './weights.js';

export interface LoadModelOptions extends Pick<LoadWeightsOptions, 'onWarning'> {
  /** Load the training configuration and optimizer state when the file has them (default true, as Keras's `compile=True`). */
  compile?: boolean;
}

/**
 * Keras `model.save(path)` (HDF5): root attributes `keras_version`,
 * `backend`, `model_config`, `training_config` (when compiled), the
 * `model_weights` group, and `optimizer_weights` (when the optimizer has
 * state) named as tf.keras 2 names them. Written atomically: a save that
 * fails leaves the previous file as it was.
 */
export async function saveModel(model: Model, path: string): Promise<void> {
  model.build();
  const modelConfig = JSON.stringify(modelToConfig(model));
  const setup = model.compiled;
  const trainingConfig = setup ? JSON.stringify(trainingConfigOf(setup)) : undefined;
  const optWeights = setup && setup.optState !== undefined ? optimizerWeights(model, setup) : undefined;
  try {
    await atomicWrite(path, (tmp) =>
      withH5Write(tmp, (file) => {
        file.create_attribute('keras_version', KERAS_VERSION);
        file.create_attribute('backend', KERAS_BACKEND);
        file.create_attribute('model_config', modelConfig);
        if (trainingConfig) file.create_attribute('training_config', trainingConfig);
        writeWeightsGroup(file.create_group('model_weights'), model);
        if (optWeights) {
          const g = file.create_group('optimizer_weights');
          writeStringListAttr(g, 'weight_names', optWeights.map(([n]) => n));
          for (const [name, t] of optWeights) writeTensor(g, name, t, true);
        }
      }),
    );
  } finally {
    if (optWeights) for (const [, t] of optWeights) t.dispose();
  }
}

/** Keras's `training_config`: optimizer_config, loss, metrics, loss_weights, as tf.keras 2 writes them. */
export function trainingConfigOf(setup: TrainingSetup): Record<string, unknown> {
  const args = setup.compiled.args;
  return {
    loss: serializeLossArg(args.loss),
    metrics: args.metrics === undefined ? [] : serializeMetricsArg(args.metrics),
    weighted_metrics: null,
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

function serializeMetricsArg(metrics: NonNullable<CompileArgs['metrics']>): unknown {
  const one = (m: MetricSpec): unknown => {
    if (typeof m === 'string') return m;
    if (typeof m === 'function') return m.name || 'metric';
    if ('class_name' in m && typeof (m as { class_name: unknown }).class_name === 'string') return m;
    const named = m as { className: string; config: Record<string, unknown>; name: string };
    if (named.className === 'MeanMetricWrapper') return named.name;
    return { class_name: named.className, config: { ...named.config } };
  };
  if (Array.isArray(metrics)) return metrics.map(one);
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Array.isArray(v) ? v.map(one) : one(v)]));
}

/** The trainable params in Keras's order (model layer order) with their tree paths and Keras names. */
function trainableParamPaths(model: Model): { paths: [string, string][]; trainable: Set<string> } {
  const v = model.variables!;
  const trainable = model.trainablePaths(v.params);
  const paths: [string, string][] = [];
  for (const { slots } of modelSlots(model))
    for (const s of slots) if (s.kind === 'params' && trainable.has(s.path)) paths.push([s.path, s.name.replace(/:0$/, '')]);
  return { paths, trainable };
}

function optimizerWeights(model: Model, setup: TrainingSetup): [string, ops.Tensor][] {
  const { paths } = trainableParamPaths(model);
  return (setup.compiled.optimizer as Optimizer).weights(setup.optState as OptimizerState, paths as ParamPaths);
}

/**
 * Keras `keras.models.load_model(path)` for HDF5: builds the model from
 * `model_config`, loads `model_weights`, and, when the file has a
 * `training_config`, compiles it and restores the optimizer state from
 * `optimizer_weights`, so that training resumes where it stopped. A file
 * without a training configuration loads uncompiled.
 */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<Model> {
  return withH5Read(path, (file) => {
    const root = file as H5Group;
    const configText = readStringAttr(file, root, 'model_config');
    if (configText === undefined) throw new Hdf5FormatError(path, '/@model_config', 'missing attribute: no model found in the file (a weights-only file? use loadWeights)');
    const weights = readWeightsIndex(file, getGroup(file, root, 'model_weights'));
    const model = modelFromJSON(configText, {
      where: `${path}@model_config`,
      kerasVersion: readStringAttr(file, root, 'keras_version'),
      weightShapes: (layerName) => fileWeightShapes(weights, layerName),
    });
    try {
      model.build();
      const next = planWeights(model, weights, { onWarning: options.onWarning });
      model.setVariables(next);
      const trainingText = options.compile === false ? undefined : readStringAttr(file, root, 'training_config');
      if (trainingText !== undefined) compileFromFile(model, file, trainingText, path, options.onWarning ?? ((m) => console.warn(m)));
      return model;
    } catch (e) {
      model.dispose();
      throw e instanceof RxKerasError ? e : wrapH5Error(e, path, '', 'cannot load the model');
    }
  });
}

function compileFromFile(model: Model, file: H5File, text: string, path: string, warn: (message: string) => void): void {
  const where = `${path}@training_config`;
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
  if (tc.loss === undefined || tc.loss === null) throw new ConfigDecodeError('loss', 'a loss', tc.loss, where);
  const args: CompileArgs = { optimizer, loss: tc.loss as CompileArgs['loss'] };
  if (tc.metrics !== undefined && tc.metrics !== null) args.metrics = tc.metrics as CompileArgs['metrics'];
  if (tc.loss_weights !== undefined && tc.loss_weights !== null) args.lossWeights = tc.loss_weights as CompileArgs['lossWeights'];
  try {
    model.compile(args);
  } catch (e) {
    throw relocate(e, 'loss', where);
  }
  const root = file as H5Group;
  if (root.get('optimizer_weights')) restoreOptimizer(model, file, getGroup(file, root, 'optimizer_weights'), warn);
}

/**
 * Reads `optimizer_weights` (in the order of its `weight_names`) into the
 * optimizer state. Arrays that do not fit the optimizer (another count or
 * shape: a file saved before the first step holds only `iter`, a Keras 1
 * file its own slots) are skipped with one warning and the model keeps a
 * fresh optimizer state, as Keras's `load_model` does when `set_weights` fails.
 */
function restoreOptimizer(model: Model, file: H5File, group: H5Group, warn: (message: string) => void): void {
  const setup = model.compiled as TrainingSetup;
  const names = readStringListAttr(file, group, 'weight_names') ?? [];
  if (names.length === 0) return;
  const values = names.map((n) => {
    const a = readArray(file, group, n);
    return ops.tensor(a.data, a.shape, a.dtype) as ops.Tensor;
  });
  const v = model.variables!;
  const { paths, trainable } = trainableParamPaths(model);
  const optimizer = setup.compiled.optimizer as Optimizer;
  const fresh = optimizer.init(fromLeaves(leaves(v.params).filter(([p]) => trainable.has(p))) as TensorTree);
  try {
    const state = optimizer.setWeights(fresh, values, paths as ParamPaths);
    disposeReplaced(fresh, state);
    setup.optState = state;
    setup.optPaths = [...trainable].join('|');
    setup.step = state.iterations;
  } catch (e) {
    disposeReplaced(fresh, undefined);
    if (e instanceof InvalidArgumentError || e instanceof ShapeMismatchError) {
      const shown = names.length > 4 ? `${names.slice(0, 3).join(', ')}, ... ${names[names.length - 1]}` : names.join(', ');
      warn(
        `${file.filename}: skipped the saved optimizer state (/optimizer_weights: ${names.length} arrays, ${shown}): it does not match the ${optimizer.className} optimizer of this model (${e.message}); training starts from a fresh optimizer state, as in Keras`,
      );
      return;
    }
    throw e instanceof RxKerasError ? new Hdf5FormatError(file.filename, '/optimizer_weights', e.message) : wrapH5Error(e, file.filename, '/optimizer_weights', 'cannot restore the optimizer state');
  } finally {
    for (const t of values) t.dispose();
  }
}

function relocate(e: unknown, path: string, where: string): RxKerasError {
  if (e instanceof ConfigDecodeError) return new ConfigDecodeError(e.path === '(root)' ? path : `${path}.${e.path}`, e.expected, e.found, where);
  if (e instanceof RxKerasError) return e;
  return new ConfigDecodeError(path, 'a valid value', e instanceof Error ? e.message : describe(e), where);
}
