import { InvalidArgumentError } from '../core/errors.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Conv2D } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { DepthwiseConv2D } from '../layers/depthwise-conv2d.js';
import { GlobalAveragePooling2D } from '../layers/global-pooling2d.js';
import { Add } from '../layers/merge.js';
import { ReLU } from '../layers/relu.js';
import { ZeroPadding2D } from '../layers/zero-padding.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { imageInput, KERAS_WEIGHTS_BASE, pool, pyFloat, resolveOptions, sourceInputs, weightsSource, type ApplicationOptions, type ApplicationSpec } from './application.js';
import { correctPad, validateActivation } from './imagenet-utils.js';

export interface MobileNetV2Options extends ApplicationOptions {
  /** Width multiplier (default 1.0; 0.35, 0.5, 0.75, 1.0, 1.3 or 1.4 with ImageNet weights). */
  alpha?: number;
}

/** ImageNet weights exist for these square sizes; others get the 224 weights, as in Keras. */
export const MOBILENET_V2_SIZES = [96, 128, 160, 192, 224];

/** Keras's `_make_divisible`: the nearest multiple of `divisor`, never more than 10% below `v`. */
export function makeDivisible(v: number, divisor: number, minValue = divisor): number {
  let n = Math.max(minValue, Math.trunc((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

const bn = (x: SymbolicTensor, name: string) => BatchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.999, name }).call(x);
const relu6 = (x: SymbolicTensor, name: string) => ReLU({ max_value: 6, name }).call(x);

/** Keras's `_inverted_res_block`: expand 1x1, depthwise 3x3, project 1x1, with an identity shortcut where shapes allow. */
function invertedResBlock(inputs: SymbolicTensor, expansion: number, stride: number, alpha: number, filters: number, id: number): SymbolicTensor {
  const inChannels = inputs.shape[3] as number;
  const pointwise = makeDivisible(Math.trunc(filters * alpha), 8);
  let x = inputs;
  let prefix = `block_${id}_`;
  if (id) {
    x = Conv2D({ filters: expansion * inChannels, kernel_size: 1, padding: 'same', use_bias: false, activation: null, name: `${prefix}expand` }).call(x);
    x = relu6(bn(x, `${prefix}expand_BN`), `${prefix}expand_relu`);
  } else prefix = 'expanded_conv_';
  if (stride === 2) x = ZeroPadding2D({ padding: correctPad(x.shape, 3), name: `${prefix}pad` }).call(x);
  x = DepthwiseConv2D({ kernel_size: 3, strides: stride, activation: null, use_bias: false, padding: stride === 1 ? 'same' : 'valid', name: `${prefix}depthwise` }).call(x);
  x = relu6(bn(x, `${prefix}depthwise_BN`), `${prefix}depthwise_relu`);
  x = Conv2D({ filters: pointwise, kernel_size: 1, padding: 'same', use_bias: false, activation: null, name: `${prefix}project` }).call(x);
  x = bn(x, `${prefix}project_BN`);
  if (inChannels === pointwise && stride === 1) return Add({ name: `${prefix}add` }).call([inputs, x]);
  return x;
}

/** Keras `MobileNetV2`. */
export function MobileNetV2(o: MobileNetV2Options = {}): ApplicationSpec {
  const where = 'MobileNetV2';
  const r = resolveOptions(o, where);
  const alpha = o.alpha ?? 1.0;
  const given = o.input_shape ?? (o.input_tensor ? o.input_tensor.shape.slice(1) : null);
  const defaultSize = given && given[0] === given[1] && MOBILENET_V2_SIZES.includes(given[0] as number) ? (given[0] as number) : 224;
  const { input, shape } = imageInput(o, { defaultSize, minSize: 32, requireFlatten: r.includeTop, weights: r.weights }, where);
  let rows = shape[0];
  if (r.weights === 'imagenet') {
    if (![0.35, 0.5, 0.75, 1.0, 1.3, 1.4].includes(alpha))
      throw new InvalidArgumentError(`${where}: alpha`, "0.35, 0.50, 0.75, 1.0, 1.3 or 1.4 with 'imagenet' weights", alpha);
    if (rows !== shape[1] || !MOBILENET_V2_SIZES.includes(rows as number)) rows = 224;
  }
  let x = ZeroPadding2D({ padding: correctPad(input.shape, 3), name: 'Conv1_pad' }).call(input);
  x = Conv2D({ filters: makeDivisible(32 * alpha, 8), kernel_size: 3, strides: [2, 2], padding: 'valid', use_bias: false, name: 'Conv1' }).call(x);
  x = relu6(bn(x, 'bn_Conv1'), 'Conv1_relu');
  const blocks: [number, number, number][] = [
    [16, 1, 1], [24, 2, 6], [24, 1, 6], [32, 2, 6], [32, 1, 6], [32, 1, 6], [64, 2, 6], [64, 1, 6], [64, 1, 6], [64, 1, 6],
    [96, 1, 6], [96, 1, 6], [96, 1, 6], [160, 2, 6], [160, 1, 6], [160, 1, 6], [320, 1, 6],
  ];
  blocks.forEach(([filters, stride, expansion], id) => (x = invertedResBlock(x, expansion, stride, alpha, filters, id)));
  // No alpha on the last conv unless it widens the network (as in the paper).
  const last = alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280;
  x = Conv2D({ filters: last, kernel_size: 1, use_bias: false, name: 'Conv_1' }).call(x);
  x = relu6(bn(x, 'Conv_1_bn'), 'out_relu');
  if (r.includeTop) {
    x = GlobalAveragePooling2D({}).call(x);
    validateActivation(r.classifierActivation, r.weights, where);
    x = Dense({ units: r.classes, activation: r.classifierActivation, name: 'predictions' }).call(x);
  } else x = pool(x, r.pooling);
  const file = `mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${pyFloat(alpha)}_${rows}${r.includeTop ? '' : '_no_top'}.h5`;
  return {
    name: `mobilenetv2_${alpha.toFixed(2)}_${rows ?? 'None'}`,
    inputs: sourceInputs(o, input),
    outputs: x,
    weights: weightsSource(r, () => ({ fileName: file, url: `${KERAS_WEIGHTS_BASE}mobilenet_v2/${file}` })),
  };
}
