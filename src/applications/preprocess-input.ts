import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { DataFormat } from './imagenet-utils.js';

/**
 * Keras's three ImageNet preprocessing modes: 'caffe' (RGB -> BGR, minus the
 * ImageNet channel means, no scaling), 'tf' (scaled to [-1, 1]), 'torch'
 * (scaled to [0, 1], minus the ImageNet means, divided by their stds).
 */
export type PreprocessMode = 'caffe' | 'tf' | 'torch';

const CAFFE_MEAN = [103.939, 116.779, 123.68];
const TORCH_MEAN = [0.485, 0.456, 0.406];
const TORCH_STD = [0.229, 0.224, 0.225];

/**
 * Keras's `imagenet_utils.preprocess_input(x, data_format, mode)` on a 3D
 * image or a 4D batch with values in [0, 255]; returns a new float32 tensor
 * (the input is not changed).
 */
export function preprocessInput(x: ops.Tensor, mode: PreprocessMode = 'caffe', dataFormat: DataFormat = 'channels_last'): ops.Tensor {
  if (mode !== 'caffe' && mode !== 'tf' && mode !== 'torch') throw new InvalidArgumentError('preprocessInput: mode', "'caffe', 'tf' or 'torch'", mode);
  if (dataFormat !== 'channels_last' && dataFormat !== 'channels_first') throw new InvalidArgumentError('preprocessInput: dataFormat', "'channels_last' or 'channels_first'", dataFormat);
  if (x.rank !== 3 && x.rank !== 4) throw new InvalidArgumentError('preprocessInput: x', 'a 3D image or a 4D batch of images', x.shape);
  return ops.tidy(() => {
    const f = ops.cast(x, 'float32');
    if (mode === 'tf') return ops.sub(ops.div(f, 127.5), 1);
    const channelAxis = dataFormat === 'channels_last' ? x.rank - 1 : x.rank - 3;
    // Means and stds broadcast along the channel axis.
    const along = (v: number[]) => ops.reshape(ops.tensor1d(v), x.shape.map((_, i) => (i === channelAxis ? 3 : 1)));
    if (mode === 'torch') return ops.div(ops.sub(ops.div(f, 255), along(TORCH_MEAN)), along(TORCH_STD));
    return ops.sub(ops.reverse(f, channelAxis), along(CAFFE_MEAN));
  });
}

/** The mode each Keras application module's `preprocess_input` uses. */
export const PREPROCESS_MODES = {
  vgg16: 'caffe',
  vgg19: 'caffe',
  resnet50: 'caffe',
  inception_v3: 'tf',
  inception_resnet_v2: 'tf',
  xception: 'tf',
  mobilenet: 'tf',
  mobilenet_v2: 'tf',
  densenet: 'torch',
  nasnet: 'tf',
} as const satisfies Record<string, PreprocessMode>;
