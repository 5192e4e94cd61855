/**
 * The package's `io` namespace: the value-level readers and writers of
 * src/io, with the readers that build a Model (from a config, a JSON or
 * YAML text, a whole-model file) and the Model-taking save and load
 * functions of the facade.
 */
export * from '../io/index.js';
export { modelFromConfig, modelFromJSON, modelFromYAML, type SerializedModel, type FromConfigOptions } from './from-config.js';
export { loadModel, saveModel, loadWeights, saveWeights, loadLayersModel } from './files.js';
export { modelFromJSONE, modelFromYAMLE, loadModelTE, saveModelTE, loadWeightsTE, saveWeightsTE } from './either.js';
