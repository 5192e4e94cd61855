/** The Keras facade: models that hold their weights and compiled setup, and the functions that build them from Keras files. */
export { Model, layerWeights, type ModelArgs, type ModelVariables } from './model.js';
export { Sequential } from './sequential.js';
export { modelFromConfig, modelFromJSON, modelFromYAML, type SerializedModel, type FromConfigOptions } from './from-config.js';
export { loadModel, saveModel, loadWeights, saveWeights, loadLayersModel } from './files.js';
export { modelFromJSONE, modelFromYAMLE, loadModelTE, saveModelTE, loadWeightsTE, saveWeightsTE } from './either.js';
export { fit$, evaluate, evaluateDataset, predict, predictDataset } from './functions.js';
export { multiGpuModel, ParallelModel, type MultiGpuModelOptions } from './multi-gpu-model.js';
export { distributedModel, DistributedModel, type DistributedFitOptions, type DistributedModelOptions } from './distributed-model.js';
export { Placement, type PlacedModel } from './placement.js';
