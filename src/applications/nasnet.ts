import { InvalidArgumentError } from '../core/errors.js';
import { Activation } from '../layers/activation.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Concatenate } from '../layers/concatenate.js';
import { Conv2D } from '../layers/conv2d.js';
import { Cropping2D } from '../layers/cropping.js';
import { Dense } from '../layers/dense.js';
import { GlobalAveragePooling2D } from '../layers/global-pooling2d.js';
import { Add } from '../layers/merge.js';
import { AveragePooling2D, MaxPooling2D } from '../layers/pooling2d.js';
import { SeparableConv2D } from '../layers/separable-conv.js';
import { ZeroPadding2D } from '../layers/zero-padding.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { imageInput, KERAS_WEIGHTS_BASE, pool, resolveOptions, sourceInputs, weightsSource, type ApplicationOptions, type ApplicationSpec } from './application.js';
import { correctPad, validateActivation } from './imagenet-utils.js';

export interface NASNetOptions extends ApplicationOptions {
  /** Filters of the penultimate layer (the P of NASNet (N @ P)); a multiple of 24 * filter_multiplier^2. */
  penultimate_filters?: number;
  /** Repeated normal cells per stage (the N). */
  num_blocks?: number;
  stem_block_filters?: number;
  /** Whether the reduction cells' inputs skip the reduction's own output. */
  skip_reduction?: boolean;
  filter_multiplier?: number;
  /** The default image size (331 large, 224 mobile); it picks the ImageNet weights. */
  default_size?: number;
}

const bn = (x: SymbolicTensor, name: string) => BatchNormalization({ axis: -1, momentum: 0.9997, epsilon: 1e-3, name }).call(x);
const relu = (x: SymbolicTensor, name?: string) => Activation({ activation: 'relu', ...(name ? { name } : {}) }).call(x);
const conv1x1 = (x: SymbolicTensor, filters: number, name: string) =>
  Conv2D({ filters, kernel_size: [1, 1], strides: [1, 1], padding: 'same', use_bias: false, name, kernel_initializer: 'he_normal' }).call(x);
const avgPool = (x: SymbolicTensor, strides: number, padding: string, name: string) =>
  AveragePooling2D({ pool_size: [3, 3], strides: [strides, strides], padding, name }).call(x);
const sum = (xs: SymbolicTensor[], name?: string) => Add(name ? { name } : {}).call(xs);

/** Keras's `_separable_conv_block`: [ReLU, separable conv, BN] twice, the first strided where asked. */
function separableConvBlock(ip: SymbolicTensor, filters: number, kernel: number, strides: number, id: string): SymbolicTensor {
  let x = relu(ip);
  let padding = 'same';
  if (strides === 2) {
    x = ZeroPadding2D({ padding: correctPad(x.shape, kernel), name: `separable_conv_1_pad_${id}` }).call(x);
    padding = 'valid';
  }
  x = SeparableConv2D({ filters, kernel_size: [kernel, kernel], strides: [strides, strides], name: `separable_conv_1_${id}`, padding, use_bias: false }).call(x);
  x = bn(x, `separable_conv_1_bn_${id}`);
  x = relu(x);
  x = SeparableConv2D({ filters, kernel_size: [kernel, kernel], name: `separable_conv_2_${id}`, padding: 'same', use_bias: false }).call(x);
  return bn(x, `separable_conv_2_bn_${id}`);
}

/** Keras's `_adjust_block`: brings the previous path `p` to the spatial size and filters of `ip`. */
function adjustBlock(p: SymbolicTensor | null, ip: SymbolicTensor, filters: number, id: string): SymbolicTensor {
  if (p === null) return ip;
  if (p.shape[2] !== ip.shape[2]) {
    p = relu(p, `adjust_relu_1_${id}`);
    let p1 = AveragePooling2D({ pool_size: [1, 1], strides: [2, 2], padding: 'valid', name: `adjust_avg_pool_1_${id}` }).call(p);
    p1 = conv1x1(p1, Math.floor(filters / 2), `adjust_conv_1_${id}`);
    let p2 = ZeroPadding2D({ padding: [[0, 1], [0, 1]] }).call(p);
    p2 = Cropping2D({ cropping: [[1, 0], [1, 0]] }).call(p2);
    p2 = AveragePooling2D({ pool_size: [1, 1], strides: [2, 2], padding: 'valid', name: `adjust_avg_pool_2_${id}` }).call(p2);
    p2 = conv1x1(p2, Math.floor(filters / 2), `adjust_conv_2_${id}`);
    return bn(Concatenate({ axis: -1 }).call([p1, p2]), `adjust_bn_${id}`);
  }
  if (p.shape[3] !== filters) return bn(conv1x1(relu(p), filters, `adjust_conv_projection_${id}`), `adjust_bn_${id}`);
  return p;
}

/** Keras's `_normal_a_cell` (Fig. 4 of the paper); returns the cell output and its input (the next `p`). */
function normalCell(ip: SymbolicTensor, p: SymbolicTensor | null, filters: number, id: string): [SymbolicTensor, SymbolicTensor] {
  const q = adjustBlock(p, ip, filters, id);
  const h = bn(conv1x1(relu(ip), filters, `normal_conv_1_${id}`), `normal_bn_1_${id}`);
  const x1 = sum([separableConvBlock(h, filters, 5, 1, `normal_left1_${id}`), separableConvBlock(q, filters, 3, 1, `normal_right1_${id}`)], `normal_add_1_${id}`);
  const x2 = sum([separableConvBlock(q, filters, 5, 1, `normal_left2_${id}`), separableConvBlock(q, filters, 3, 1, `normal_right2_${id}`)], `normal_add_2_${id}`);
  const x3 = sum([avgPool(h, 1, 'same', `normal_left3_${id}`), q], `normal_add_3_${id}`);
  const x4 = sum([avgPool(q, 1, 'same', `normal_left4_${id}`), avgPool(q, 1, 'same', `normal_right4_${id}`)], `normal_add_4_${id}`);
  const x5 = sum([separableConvBlock(h, filters, 3, 1, `normal_left5_${id}`), h], `normal_add_5_${id}`);
  return [Concatenate({ axis: -1, name: `normal_concat_${id}` }).call([q, x1, x2, x3, x4, x5]), ip];
}

/** Keras's `_reduction_a_cell`; returns the cell output and its input. */
function reductionCell(ip: SymbolicTensor, p: SymbolicTensor | null, filters: number, id: string): [SymbolicTensor, SymbolicTensor] {
  const q = adjustBlock(p, ip, filters, id);
  const h = bn(conv1x1(relu(ip), filters, `reduction_conv_1_${id}`), `reduction_bn_1_${id}`);
  const h3 = ZeroPadding2D({ padding: correctPad(h.shape, 3), name: `reduction_pad_1_${id}` }).call(h);
  const x1 = sum([separableConvBlock(h, filters, 5, 2, `reduction_left1_${id}`), separableConvBlock(q, filters, 7, 2, `reduction_right1_${id}`)], `reduction_add_1_${id}`);
  const x2 = sum(
    [MaxPooling2D({ pool_size: [3, 3], strides: [2, 2], padding: 'valid', name: `reduction_left2_${id}` }).call(h3), separableConvBlock(q, filters, 7, 2, `reduction_right2_${id}`)],
    `reduction_add_2_${id}`,
  );
  const x3 = sum([avgPool(h3, 2, 'valid', `reduction_left3_${id}`), separableConvBlock(q, filters, 5, 2, `reduction_right3_${id}`)], `reduction_add3_${id}`);
  const x4 = sum([x2, avgPool(x1, 1, 'same', `reduction_left4_${id}`)]);
  const x5 = sum(
    [separableConvBlock(x1, filters, 3, 1, `reduction_left4_${id}`), MaxPooling2D({ pool_size: [3, 3], strides: [2, 2], padding: 'valid', name: `reduction_right5_${id}` }).call(h3)],
    `reduction_add4_${id}`,
  );
  return [Concatenate({ axis: -1, name: `reduction_concat_${id}` }).call([x2, x3, x4, x5]), ip];
}

/** Keras's `NASNet(...)`: NASNetMobile and NASNetLarge fix its arguments. */
export function NASNet(o: NASNetOptions = {}): ApplicationSpec {
  const where = o.default_size === 224 ? 'NASNetMobile' : o.default_size === 331 ? 'NASNetLarge' : 'NASNet';
  const r = resolveOptions(o, where);
  const { penultimate_filters: penultimate = 4032, num_blocks: numBlocks = 6, stem_block_filters: stem = 96, skip_reduction: skip = true, filter_multiplier: fm = 2 } = o;
  if (o.input_shape && o.input_shape.includes(null) && r.weights === 'imagenet')
    throw new InvalidArgumentError(`${where}: input_shape`, "a static shape (no null) with 'imagenet' weights", o.input_shape);
  const defaultSize = o.default_size ?? 331;
  // NASNet asks obtain_input_shape for a static shape even without a top (require_flatten=True), as Keras does.
  const { input } = imageInput(o, { defaultSize, minSize: 32, requireFlatten: true, weights: r.weights }, where);
  if (penultimate % (24 * fm ** 2) !== 0)
    throw new InvalidArgumentError(`${where}: penultimate_filters`, `a multiple of 24 * filter_multiplier ** 2 (${24 * fm ** 2})`, penultimate);
  const filters = Math.floor(penultimate / 24);
  let x = Conv2D({ filters: stem, kernel_size: [3, 3], strides: [2, 2], padding: 'valid', use_bias: false, name: 'stem_conv1', kernel_initializer: 'he_normal' }).call(input);
  x = bn(x, 'stem_bn1');
  let p: SymbolicTensor | null = null;
  [x, p] = reductionCell(x, p, Math.floor(filters / fm ** 2), 'stem_1');
  [x, p] = reductionCell(x, p, Math.floor(filters / fm), 'stem_2');
  for (let stage = 0; stage < 3; stage++) {
    const f = filters * fm ** stage;
    if (stage > 0) {
      let p0: SymbolicTensor;
      [x, p0] = reductionCell(x, p, f, `reduce_${numBlocks * stage}`);
      if (!skip) p = p0;
    }
    for (let i = 0; i < numBlocks; i++) [x, p] = normalCell(x, p, f, `${numBlocks * stage + i + (stage > 0 ? 1 : 0)}`);
  }
  x = relu(x);
  if (r.includeTop) {
    x = GlobalAveragePooling2D({}).call(x);
    validateActivation(r.classifierActivation, r.weights, where);
    x = Dense({ units: r.classes, activation: r.classifierActivation, name: 'predictions' }).call(x);
  } else x = pool(x, r.pooling);
  return {
    name: 'NASNet',
    inputs: sourceInputs(o, input),
    outputs: x,
    weights: weightsSource(r, () => {
      const kind = defaultSize === 224 ? 'mobile' : defaultSize === 331 ? 'large' : null;
      if (!kind) throw new InvalidArgumentError(`${where}: weights`, "'imagenet' only with NASNetLarge or NASNetMobile", r.weights);
      const hashes = kind === 'mobile' ? ['020fb642bf7360b370c678b08e0adf61', '1ed92395b5b598bdda52abe5c0dbfd63'] : ['11577c9a518f0070763c2b964a382f17', 'd81d89dc07e6e56530c4e77faddd61b5'];
      const fileName = `nasnet_${kind}${r.includeTop ? '' : '_no_top'}.h5`;
      const remote = `NASNet-${kind}${r.includeTop ? '' : '-no-top'}.h5`;
      return { fileName, url: `${KERAS_WEIGHTS_BASE}nasnet/${remote}`, fileHash: hashes[r.includeTop ? 0 : 1] };
    }),
  };
}

/** Keras `NASNetMobile`: NASNet-A (4 @ 1056), 224x224. */
export const NASNetMobile = (o: ApplicationOptions = {}): ApplicationSpec =>
  NASNet({ ...o, penultimate_filters: 1056, num_blocks: 4, stem_block_filters: 32, skip_reduction: false, filter_multiplier: 2, default_size: 224 });

/** Keras `NASNetLarge`: NASNet-A (6 @ 4032), 331x331. */
export const NASNetLarge = (o: ApplicationOptions = {}): ApplicationSpec =>
  NASNet({ ...o, penultimate_filters: 4032, num_blocks: 6, stem_block_filters: 96, skip_reduction: true, filter_multiplier: 2, default_size: 331 });
