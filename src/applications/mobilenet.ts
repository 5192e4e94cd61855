import { InvalidArgumentError } from '../core/errors.js';
import { Activation } from '../layers/activation.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Conv2D } from '../layers/conv2d.js';
import { DepthwiseConv2D } from '../layers/depthwise-conv2d.js';
import { Dropout } from '../layers/dropout.js';
import { GlobalAveragePooling2D } from '../layers/global-pooling2d.js';
import { ReLU } from '../layers/relu.js';
import { Reshape } from '../layers/reshape.js';
import { ZeroPadding2D } from '../layers/zero-padding.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { imageInput, KERAS_WEIGHTS_BASE, pool, resolveOptions, sourceInputs, weightsSource, type ApplicationOptions, type ApplicationSpec } from './application.js';
import { validateActivation } from './imagenet-utils.js';

export interface MobileNetOptions extends ApplicationOptions {
  /** Width multiplier (default 1.0; 0.25, 0.5, 0.75 or 1.0 with ImageNet weights). */
  alpha?: number;
  /** Depthwise channel multiplier (default 1; 1 with ImageNet weights). */
  depth_multiplier?: number;
  /** Dropout rate before the classifier (default 0.001). */
  dropout?: number;
}

/** ImageNet weights exist for these square sizes; others get the 224 weights, as in Keras. */
export const MOBILENET_SIZES = [128, 160, 192, 224];

/** Keras's `mobilenet._depthwise_conv_block`: depthwise 3x3, BN, ReLU6, pointwise 1x1, BN, ReLU6. */
function depthwiseBlock(x: SymbolicTensor, filters: number, alpha: number, dm: number, id: number, stride = 1): SymbolicTensor {
  const pointwise = Math.trunc(filters * alpha);
  if (stride !== 1) x = ZeroPadding2D({ padding: [[0, 1], [0, 1]], name: `conv_pad_${id}` }).call(x);
  x = DepthwiseConv2D({ kernel_size: [3, 3], padding: stride === 1 ? 'same' : 'valid', depth_multiplier: dm, strides: [stride, stride], use_bias: false, name: `conv_dw_${id}` }).call(x);
  x = BatchNormalization({ axis: -1, name: `conv_dw_${id}_bn` }).call(x);
  x = ReLU({ max_value: 6, name: `conv_dw_${id}_relu` }).call(x);
  x = Conv2D({ filters: pointwise, kernel_size: [1, 1], padding: 'same', use_bias: false, strides: [1, 1], name: `conv_pw_${id}` }).call(x);
  x = BatchNormalization({ axis: -1, name: `conv_pw_${id}_bn` }).call(x);
  return ReLU({ max_value: 6, name: `conv_pw_${id}_relu` }).call(x);
}

/** Keras `MobileNet` (v1). */
export function MobileNet(o: MobileNetOptions = {}): ApplicationSpec {
  const where = 'MobileNet';
  const r = resolveOptions(o, where);
  const alpha = o.alpha ?? 1.0;
  const dm = o.depth_multiplier ?? 1;
  const shape = o.input_shape;
  const defaultSize = shape && shape[0] === shape[1] && MOBILENET_SIZES.includes(shape[0] as number) ? (shape[0] as number) : 224;
  const { input, shape: inShape } = imageInput(o, { defaultSize, minSize: 32, requireFlatten: r.includeTop, weights: r.weights }, where);
  let rows = inShape[0];
  if (r.weights === 'imagenet') {
    if (dm !== 1) throw new InvalidArgumentError(`${where}: depth_multiplier`, "1 with 'imagenet' weights", dm);
    if (![0.25, 0.5, 0.75, 1.0].includes(alpha)) throw new InvalidArgumentError(`${where}: alpha`, "0.25, 0.50, 0.75 or 1.0 with 'imagenet' weights", alpha);
    if (rows !== inShape[1] || !MOBILENET_SIZES.includes(rows as number)) rows = 224;
  }
  let x = Conv2D({ filters: Math.trunc(32 * alpha), kernel_size: [3, 3], padding: 'same', use_bias: false, strides: [2, 2], name: 'conv1' }).call(input);
  x = BatchNormalization({ axis: -1, name: 'conv1_bn' }).call(x);
  x = ReLU({ max_value: 6, name: 'conv1_relu' }).call(x);
  const blocks: [number, number][] = [[64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2], [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1]];
  blocks.forEach(([filters, stride], i) => (x = depthwiseBlock(x, filters, alpha, dm, i + 1, stride)));
  if (r.includeTop) {
    x = GlobalAveragePooling2D({}).call(x);
    x = Reshape({ target_shape: [1, 1, Math.trunc(1024 * alpha)], name: 'reshape_1' }).call(x);
    x = Dropout({ rate: o.dropout ?? 1e-3, name: 'dropout' }).call(x);
    x = Conv2D({ filters: r.classes, kernel_size: [1, 1], padding: 'same', name: 'conv_preds' }).call(x);
    x = Reshape({ target_shape: [r.classes], name: 'reshape_2' }).call(x);
    validateActivation(r.classifierActivation, r.weights, where);
    x = Activation({ activation: r.classifierActivation ?? 'linear', name: 'predictions' }).call(x);
  } else x = pool(x, r.pooling);
  const alphaText = alpha === 1 ? '1_0' : alpha === 0.75 ? '7_5' : alpha === 0.5 ? '5_0' : '2_5';
  const file = `mobilenet_${alphaText}_${rows}_tf${r.includeTop ? '' : '_no_top'}.h5`;
  return {
    name: `mobilenet_${alpha.toFixed(2)}_${rows ?? 'None'}`,
    inputs: sourceInputs(o, input),
    outputs: x,
    weights: weightsSource(r, () => ({ fileName: file, url: `${KERAS_WEIGHTS_BASE}mobilenet/${file}` })),
  };
}
