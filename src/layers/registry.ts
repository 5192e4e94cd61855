import { UnknownLayerError } from '../core/errors.js';
import { Registry } from '../core/registry.js';
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
import { Add, Average, Maximum, Minimum, Multiply, Subtract } from './merge.js';
import { Concatenate } from './concatenate.js';
import { Dot } from './dot.js';
import { LayerNormalization } from './layer-normalization.js';
import { GaussianNoise } from './gaussian-noise.js';
import { GaussianDropout } from './gaussian-dropout.js';
import { AlphaDropout } from './alpha-dropout.js';
import { SpatialDropout1D, SpatialDropout2D, SpatialDropout3D } from './spatial-dropout.js';
import { ActivityRegularization } from './activity-regularization.js';
import { AdditiveAttention, Attention } from './attention.js';
import { MultiHeadAttention } from './multi-head-attention.js';
import { Lambda } from './lambda.js';
import { Conv1D, Conv3D } from './conv.js';
import { Conv2DTranspose, Conv3DTranspose } from './conv-transpose.js';
import { Cropping1D, Cropping2D, Cropping3D } from './cropping.js';
import { DepthwiseConv2D } from './depthwise-conv2d.js';
import { GlobalAveragePooling1D, GlobalAveragePooling3D, GlobalMaxPooling1D, GlobalMaxPooling3D } from './global-pooling.js';
import { LocallyConnected1D, LocallyConnected2D } from './locally-connected.js';
import { Permute } from './permute.js';
import { AveragePooling1D, AveragePooling3D, MaxPooling1D, MaxPooling3D } from './pooling.js';
import { RepeatVector } from './repeat-vector.js';
import { SeparableConv1D, SeparableConv2D } from './separable-conv.js';
import { UpSampling1D, UpSampling2D, UpSampling3D } from './up-sampling.js';
import { ZeroPadding1D, ZeroPadding2D, ZeroPadding3D } from './zero-padding.js';
import { bidirectional, type BidirectionalArgs } from './bidirectional.js';
import { ConvLSTM2D } from './conv-lstm2d.js';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import { Masking } from './masking.js';
import { SimpleRNN } from './simple-rnn.js';
import { timeDistributed, type TimeDistributedArgs } from './time-distributed.js';
import { RNN } from './rnn.js';
import type { Layer, SerializedLayer } from './layer.js';
import type { RecurrentLayer } from './rnn-core.js';

/** Builds a layer from a Keras config; each factory decodes and validates its config. */
export type LayerFromConfig = (config: unknown) => Layer;


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
  Add: from(Add),
  Subtract: from(Subtract),
  Multiply: from(Multiply),
  Average: from(Average),
  Maximum: from(Maximum),
  Minimum: from(Minimum),
  Concatenate: from(Concatenate),
  Dot: from(Dot),
  LayerNormalization: from(LayerNormalization),
  GaussianNoise: from(GaussianNoise),
  GaussianDropout: from(GaussianDropout),
  AlphaDropout: from(AlphaDropout),
  SpatialDropout1D: from(SpatialDropout1D),
  SpatialDropout2D: from(SpatialDropout2D),
  SpatialDropout3D: from(SpatialDropout3D),
  ActivityRegularization: from(ActivityRegularization),
  Attention: from(Attention),
  AdditiveAttention: from(AdditiveAttention),
  MultiHeadAttention: from(MultiHeadAttention),
  Lambda: from(Lambda),
  // Convolution, pooling and shape layers (conv.ts, conv-transpose.ts, ...).
  Conv1D: from(Conv1D),
  Conv3D: from(Conv3D),
  Conv2DTranspose: from(Conv2DTranspose),
  Conv3DTranspose: from(Conv3DTranspose),
  SeparableConv1D: from(SeparableConv1D),
  SeparableConv2D: from(SeparableConv2D),
  DepthwiseConv2D: from(DepthwiseConv2D),
  LocallyConnected1D: from(LocallyConnected1D),
  LocallyConnected2D: from(LocallyConnected2D),
  Cropping1D: from(Cropping1D),
  Cropping2D: from(Cropping2D),
  Cropping3D: from(Cropping3D),
  UpSampling1D: from(UpSampling1D),
  UpSampling2D: from(UpSampling2D),
  UpSampling3D: from(UpSampling3D),
  ZeroPadding1D: from(ZeroPadding1D),
  ZeroPadding2D: from(ZeroPadding2D),
  ZeroPadding3D: from(ZeroPadding3D),
  MaxPooling1D: from(MaxPooling1D),
  MaxPooling3D: from(MaxPooling3D),
  AveragePooling1D: from(AveragePooling1D),
  AveragePooling3D: from(AveragePooling3D),
  GlobalAveragePooling1D: from(GlobalAveragePooling1D),
  GlobalAveragePooling3D: from(GlobalAveragePooling3D),
  GlobalMaxPooling1D: from(GlobalMaxPooling1D),
  GlobalMaxPooling3D: from(GlobalMaxPooling3D),
  RepeatVector: from(RepeatVector),
  Permute: from(Permute),
  // Recurrent layers and wrappers (rnn-core.ts, lstm.ts, ...).
  SimpleRNN: from(SimpleRNN),
  LSTM: from(LSTM),
  GRU: from(GRU),
  ConvLSTM2D: from(ConvLSTM2D),
  Bidirectional: from(Bidirectional),
  TimeDistributed: from(TimeDistributed),
  Masking: from(Masking),
  // The generic RNN over cells (rnn.ts); its cells are configs inside it, not layers of their own.
  RNN: from(RNN),
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
  Convolution1D: 'Conv1D',
  Convolution3D: 'Conv3D',
  Convolution2DTranspose: 'Conv2DTranspose',
  Convolution3DTranspose: 'Conv3DTranspose',
  SeparableConvolution1D: 'SeparableConv1D',
  SeparableConvolution2D: 'SeparableConv2D',
  MaxPool1D: 'MaxPooling1D',
  MaxPool3D: 'MaxPooling3D',
  AvgPool1D: 'AveragePooling1D',
  AvgPool3D: 'AveragePooling3D',
  GlobalAvgPool1D: 'GlobalAveragePooling1D',
  GlobalAvgPool3D: 'GlobalAveragePooling3D',
  GlobalMaxPool1D: 'GlobalMaxPooling1D',
  GlobalMaxPool3D: 'GlobalMaxPooling3D',
};

/** The built-in table from Keras `class_name` (and Keras's aliases) to layer. */
const table = new Map<string, LayerFromConfig>(Object.entries(builtins));
for (const [alias, target] of Object.entries(aliases)) table.set(alias, builtins[target]);

/** Custom layers by class name; they take precedence over built-ins of the same name. */
export const customLayers = new Registry<LayerFromConfig>({ register: 'registerLayer', nameArgument: 'className', argument: 'fromConfig', expected: 'a function (config) => Layer' });

/** Adds (or replaces) the layer built for `className`, for custom layers. */
export function registerLayer(className: string, fromConfig: LayerFromConfig): void {
  customLayers.register(className, fromConfig);
}

/** Every class name the registry knows, sorted. */
export function knownLayers(): string[] {
  return [...new Set([...table.keys(), ...customLayers.names()])].sort();
}

/** Builds a layer from `{ class_name, config }`; throws UnknownLayerError for an unknown class. */
export function layerFromConfig(serialized: SerializedLayer): Layer {
  const fromConfig = customLayers.get(serialized.class_name) ?? table.get(serialized.class_name);
  if (!fromConfig) throw new UnknownLayerError(serialized.class_name, knownLayers());
  return fromConfig(serialized.config ?? {});
}

/** Keras `Bidirectional`; its layers given as configs (and its backward copy) are built through this registry. */
export function Bidirectional(args: BidirectionalArgs): RecurrentLayer {
  return bidirectional(args, layerFromConfig);
}

/** Keras `TimeDistributed`; an inner layer given as a config is built through this registry. */
export function TimeDistributed(args: TimeDistributedArgs): Layer {
  return timeDistributed(args, layerFromConfig);
}
