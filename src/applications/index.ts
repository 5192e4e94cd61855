/**
 * keras.applications: the architectures as functional graphs with their
 * Keras weight files, and the ImageNet utilities around them. The facade
 * (`rx.applications`, src/models/applications.ts) turns a graph into a Model.
 */
export { type ApplicationOptions, type ApplicationSpec, type WeightsFile } from './application.js';
export { obtainInputShape, correctPad, type DataFormat, type InputShapeRules } from './imagenet-utils.js';
export { VGG16, VGG19 } from './vgg.js';
export { ResNet50 } from './resnet.js';
export { InceptionV3 } from './inception-v3.js';
export { InceptionResNetV2, RESIDUAL_SCALE } from './inception-resnet-v2.js';
export { Xception } from './xception.js';
export { MobileNet, type MobileNetOptions } from './mobilenet.js';
export { MobileNetV2, makeDivisible, type MobileNetV2Options } from './mobilenet-v2.js';
export { DenseNet, DenseNet121, DenseNet169, DenseNet201, type DenseNetOptions } from './densenet.js';
export { NASNet, NASNetLarge, NASNetMobile, type NASNetOptions } from './nasnet.js';
export { preprocessInput, PREPROCESS_MODES, type PreprocessMode } from './preprocess-input.js';
export { decodePredictions, type Prediction } from './decode-predictions.js';
export { loadImg, imgToArray, resize, ImageDecodeError, type Image, type LoadImgOptions, type ColorMode, type Interpolation } from './load-img.js';
export { getFile, kerasHome, hashFile, WeightsDownloadError, WeightsHashError, type GetFileOptions } from './get-file.js';
