import { UnknownLayerError } from '../core/errors.js';
import { Activation } from './activation.js';
import { BatchNormalization } from './batch-normalization.js';
import { Conv2D } from './conv2d.js';
import { Dense } from './dense.js';
import { Dropout } from './dropout.js';
import { ELU } from './elu.js';
import { Embedding } from './embedding.js';
import { Flatten } from './flatten.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D } from './global-pooling2d.js';
import { InputLayer } from './input-layer.js';
import { LeakyReLU } from './leaky-relu.js';
import { AveragePooling2D, MaxPooling2D } from './pooling2d.js';
import { PReLU } from './prelu.js';
import { ReLU } from './relu.js';
import { Reshape } from './reshape.js';
import { Softmax } from './softmax.js';
import { ThresholdedReLU } from './thresholded-relu.js';
import type { Layer } from './layer.js';

/** Builds a layer from a Keras config; each factory decodes and validates its config. */
export type LayerFromConfig = (config: unknown) => Layer;

/** A serialised layer, as in a Keras model config. */
export interface SerializedLayer {
  class_name: string;
  config?: unknown;
}

/** Every factory decodes and validates its own config, so the table passes it through. */
const from =
  <A>(factory: (args: A) => Layer): LayerFromConfig =>
  (config) =>
    factory(config as A);

const builtins: Record<string, LayerFromConfig> = {
  Activation: from(Activation),
  AveragePooling2D: from(AveragePooling2D),
  BatchNormalization: from(BatchNormalization),
  Conv2D: from(Conv2D),
  Dense: from(Dense),
  Dropout: from(Dropout),
  ELU: from(ELU),
  Embedding: from(Embedding),
  Flatten: from(Flatten),
  GlobalAveragePooling2D: from(GlobalAveragePooling2D),
  GlobalMaxPooling2D: from(GlobalMaxPooling2D),
  InputLayer: from(InputLayer),
  LeakyReLU: from(LeakyReLU),
  MaxPooling2D: from(MaxPooling2D),
  PReLU: from(PReLU),
  ReLU: from(ReLU),
  Reshape: from(Reshape),
  Softmax: from(Softmax),
  ThresholdedReLU: from(ThresholdedReLU),
};

/** Other class names Keras 2 deserialises to the same layers. */
const aliases: Record<string, string> = {
  Convolution2D: 'Conv2D',
  MaxPool2D: 'MaxPooling2D',
  AvgPool2D: 'AveragePooling2D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D',
  GlobalMaxPool2D: 'GlobalMaxPooling2D',
  BatchNormalizationV1: 'BatchNormalization',
  BatchNormalizationV2: 'BatchNormalization',
};

/** The table from Keras `class_name` to layer; `registerLayer` adds custom layers. */
const table = new Map<string, LayerFromConfig>(Object.entries(builtins));
for (const [alias, target] of Object.entries(aliases)) table.set(alias, builtins[target]);

/** Adds (or replaces) the layer built for `className`, for custom layers. */
export function registerLayer(className: string, fromConfig: LayerFromConfig): void {
  table.set(className, fromConfig);
}

/** Every class name the registry knows, sorted. */
export function knownLayers(): string[] {
  return [...table.keys()].sort();
}

/** Builds a layer from `{ class_name, config }`; throws UnknownLayerError for an unknown class. */
export function layerFromConfig(serialized: SerializedLayer): Layer {
  const fromConfig = table.get(serialized.class_name);
  if (!fromConfig) throw new UnknownLayerError(serialized.class_name, knownLayers());
  return fromConfig(serialized.config ?? {});
}
