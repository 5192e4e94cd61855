/**
 * `rx.applications`: Keras's pretrained architectures as Models. Each
 * function takes Keras's keyword arguments and resolves to a Model, with the
 * ImageNet weights from Keras's cache or Keras's URL (weights: 'imagenet',
 * the default), from a file (a path), or freshly initialised (null). The
 * per-module namespaces (`mobilenet_v2.preprocessInput`, ...) hold Keras's
 * module-level helpers.
 */
import type * as ops from '../ops/index.js';
import * as apps from '../applications/index.js';
import { decodePredictions, getFile, preprocessInput, PREPROCESS_MODES, type ApplicationSpec, type DataFormat, type GetFileOptions } from '../applications/index.js';
import { Model } from './model.js';

/** Where to wait for downloads and draw their progress. */
export type DownloadOptions = Pick<GetFileOptions, 'timeoutMs' | 'stream'>;

/** The Model of a built application, with its weights loaded (Keras's `load_weights` by topological order). */
export async function instantiate(spec: ApplicationSpec, download: DownloadOptions = {}): Promise<Model> {
  const model = new Model({ inputs: spec.inputs.length === 1 ? spec.inputs[0] : spec.inputs, outputs: spec.outputs, name: spec.name });
  if (spec.weights !== null) {
    const w = spec.weights;
    const path = typeof w === 'string' ? w : await getFile(w.fileName, w.url, { cacheSubdir: 'models', fileHash: w.fileHash, ...download });
    await model.loadWeights(path);
  }
  return model;
}

const wrap =
  <O>(build: (o?: O) => ApplicationSpec) =>
  (options?: O & { download?: DownloadOptions }): Promise<Model> => {
    try {
      return instantiate(build(options), options?.download);
    } catch (e) {
      return Promise.reject(e);
    }
  };

export const VGG16 = wrap(apps.VGG16);
export const VGG19 = wrap(apps.VGG19);
export const ResNet50 = wrap(apps.ResNet50);
export const InceptionV3 = wrap(apps.InceptionV3);
export const InceptionResNetV2 = wrap(apps.InceptionResNetV2);
export const Xception = wrap(apps.Xception);
export const MobileNet = wrap(apps.MobileNet);
export const MobileNetV2 = wrap(apps.MobileNetV2);
export const DenseNet121 = wrap(apps.DenseNet121);
export const DenseNet169 = wrap(apps.DenseNet169);
export const DenseNet201 = wrap(apps.DenseNet201);
export const NASNetMobile = wrap(apps.NASNetMobile);
export const NASNetLarge = wrap(apps.NASNetLarge);

/** A Keras application module's helpers: its `preprocess_input` mode and `decode_predictions`. */
const moduleOf = (mode: apps.PreprocessMode) => ({
  preprocessInput: (x: ops.Tensor, dataFormat?: DataFormat) => preprocessInput(x, mode, dataFormat),
  decodePredictions,
});
export const vgg16 = moduleOf(PREPROCESS_MODES.vgg16);
export const vgg19 = moduleOf(PREPROCESS_MODES.vgg19);
export const resnet50 = moduleOf(PREPROCESS_MODES.resnet50);
export const inception_v3 = moduleOf(PREPROCESS_MODES.inception_v3);
export const inception_resnet_v2 = moduleOf(PREPROCESS_MODES.inception_resnet_v2);
export const xception = moduleOf(PREPROCESS_MODES.xception);
export const mobilenet = moduleOf(PREPROCESS_MODES.mobilenet);
export const mobilenet_v2 = moduleOf(PREPROCESS_MODES.mobilenet_v2);
export const densenet = moduleOf(PREPROCESS_MODES.densenet);
export const nasnet = moduleOf(PREPROCESS_MODES.nasnet);

export {
  preprocessInput,
  decodePredictions,
  loadImg,
  imgToArray,
  getFile,
  kerasHome,
  obtainInputShape,
  WeightsDownloadError,
  WeightsHashError,
  ImageDecodeError,
  type ApplicationOptions,
  type MobileNetOptions,
  type MobileNetV2Options,
  type Prediction,
  type PreprocessMode,
  type Image,
  type LoadImgOptions,
} from '../applications/index.js';
/** The graph builders (no weights allocated), for shape checks and custom assembly. */
export * as specs from '../applications/index.js';
