import { RxKerasError } from '../core/errors.js';
import { fileWeightShapes, getGroup, readLayersModelJSON, readLayersModelWeights, readStringAttr, readWeightsIndex, planWeights, readCompileArgs, readModelConfig, readOptimizerState, compileArgsError, trainingConfigWhere, withH5Read, wrapH5Error, type H5Group, type LoadModelOptions, type LoadWeightsOptions } from '../io/index.js';
import { modelFromJSON } from './from-config.js';
import type { Model } from './model.js';

/** Keras `model.save(path)` as a function: `model.save(path)`. */
export function saveModel(model: Model, path: string): Promise<void> {
  return model.save(path);
}

/** Keras `model.save_weights(path)` as a function: `model.saveWeights(path)`. */
export function saveWeights(model: Model, path: string): Promise<void> {
  return model.saveWeights(path);
}

/** Keras `model.load_weights(path, ...)` as a function: `model.loadWeights(path, options)`. */
export function loadWeights(model: Model, path: string, options?: LoadWeightsOptions): Promise<void> {
  return model.loadWeights(path, options);
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
    const configText = readModelConfig(file);
    const weights = readWeightsIndex(file, getGroup(file, file as H5Group, 'model_weights'));
    const model = modelFromJSON(configText, {
      where: `${path}@model_config`,
      kerasVersion: readStringAttr(file, file as H5Group, 'keras_version'),
      weightShapes: (layerName) => fileWeightShapes(weights, layerName),
    });
    try {
      const v = model.build().variables!;
      model.setVariables(planWeights(model, v, weights, { onWarning: options.onWarning }));
      const args = options.compile === false ? undefined : readCompileArgs(file);
      if (args) {
        try {
          model.compile(args, options.seed);
        } catch (e) {
          throw compileArgsError(e, trainingConfigWhere(file));
        }
        const restored = readOptimizerState(file, model, model.variables!, model.compiled!.compiled, options.onWarning ?? ((m) => console.warn(m)));
        if (restored) model.compiled = { ...model.compiled!, ...restored };
      }
      return model;
    } catch (e) {
      model.dispose();
      throw e instanceof RxKerasError ? e : wrapH5Error(e, path, '', 'cannot load the model');
    }
  });
}

/**
 * Reads a TF.js layers model (a `model.json` with its weight shards beside
 * it, `tf.loadLayersModel`'s format) into a Model that predicts and trains.
 * Everything is read and checked before the model is returned.
 */
export function loadLayersModel(file: string): Model {
  const { json, topology } = readLayersModelJSON(file);
  const model = modelFromJSON(topology, { where: file });
  try {
    model.setVariables(readLayersModelWeights(file, json, model, model.build().variables!));
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}
