/**
 * Keras formats both ways: JSON and YAML model configs, HDF5 weights and
 * whole models (h5wasm), in Keras 2's layouts.
 */
export {
  KERAS_VERSION,
  KERAS_BACKEND,
  type SerializedModel,
  type FromConfigOptions,
  modelFromConfig,
  modelFromJSON,
  modelFromYAML,
  modelToConfig,
  toJSON,
  toYAML,
} from './model-config.js';
export { legacyLayer } from './legacy.js';
export { layerConfigRules } from './config-rules.js';
export { recurrentRules, type ConfigOrigin } from './recurrent-rules.js';
export { parseKerasYAML, stringifyYAML } from './yaml.js';
export {
  HDF5_OBJECT_HEADER_LIMIT,
  checkHdf5File,
  readStringListAttr,
  writeStringListAttr,
  withH5Read,
  withH5Write,
  type H5Array,
  type H5File,
  type H5Group,
} from './hdf5.js';
export { type WeightSlot, type LoadWeightsOptions, layerSlots, modelSlots, loadWeights, saveWeights, atomicWrite } from './weights.js';
export { type LoadModelOptions, saveModel, loadModel, trainingConfigOf } from './model-file.js';
export { modelFromJSONE, modelFromYAMLE, loadModelTE, saveModelTE, loadWeightsTE, saveWeightsTE } from './either.js';
