/**
 * Keras formats both ways, over values: JSON and YAML model configs, HDF5
 * weights and whole models (h5wasm), in Keras 2's layouts. Building a
 * `Model` from a file is the facade's part (src/models).
 */
export { KERAS_VERSION, KERAS_BACKEND, modelToConfig, toJSON, toYAML, type Configurable } from './model-to-config.js';
export { legacyLayer } from './legacy.js';
export { layerConfigRules } from './config-rules.js';
export { recurrentRules, type ConfigOrigin } from './recurrent-rules.js';
export { parseKerasYAML, stringifyYAML } from './yaml.js';
export {
  HDF5_OBJECT_HEADER_LIMIT,
  checkHdf5File,
  getGroup,
  readStringAttr,
  readStringListAttr,
  wrapH5Error,
  writeStringListAttr,
  withH5Read,
  withH5Write,
  type H5Array,
  type H5File,
  type H5Group,
} from '../core/hdf5.js';
export {
  type WeightSlot,
  type LoadWeightsOptions,
  type FileWeights,
  fileWeightShapes,
  layerSlots,
  modelSlots,
  planWeights,
  readWeightsIndex,
  readWeightsFile,
  writeWeightsFile,
  writeWeightsGroup,
  atomicWrite,
} from './weights.js';
export {
  type LoadModelOptions,
  type ModelFileContents,
  modelFileContents,
  disposeContents,
  writeModelFile,
  readModelConfig,
  readCompileArgs,
  readOptimizerState,
  trainingConfigOf,
  trainingConfigWhere,
} from './model-file.js';
export { readLayersModelJSON, readLayersModelWeights, writeLayersModel, TfjsFormatError, type LayersModelJSON, type ManifestWeight } from './tfjs-model.js';
export { relocate } from './relocate.js';
export { lossAndMetrics, compileArgsError } from './training-config.js';
