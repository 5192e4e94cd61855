/**
 * rxkeras/testing: the kit the project's own tests use, for testing your
 * layers and models: fast-check arbitraries (tensor contents, layer configs,
 * small Sequential and functional models), Keras's run_layer_test, a
 * finite-difference gradient check, and a tensor-leak check.
 */
export {
  shapes, tensorData, toTensor, layerConfigs, sequentialModels, functionalModels, LAYER_CLASSES,
  type TensorData, type TensorDataOptions, type ShapeOptions, type LayerConfig, type ModelOptions,
} from './arbitraries.js';
export { runLayerTest, type LayerTestCase } from './run-layer-test.js';
export { checkGradients, checkLayerGradients, randomParams, GradientMismatchError, type GradientCheckOptions } from './gradient-check.js';
export { expectNoLeaks, TensorLeakError } from './leak-check.js';
