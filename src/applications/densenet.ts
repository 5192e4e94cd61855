import { Activation } from '../layers/activation.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Concatenate } from '../layers/concatenate.js';
import { Conv2D } from '../layers/conv2d.js';
import { AveragePooling2D, MaxPooling2D } from '../layers/pooling2d.js';
import { ZeroPadding2D } from '../layers/zero-padding.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { averagePoolTop, imageInput, resolveOptions, sourceInputs, tfKernelsWeights, weightsSource, type ApplicationOptions, type ApplicationSpec } from './application.js';

export interface DenseNetOptions extends ApplicationOptions {
  /** Building blocks of the four dense blocks (DenseNet121: [6, 12, 24, 16]). */
  blocks?: [number, number, number, number];
}

const bn = (x: SymbolicTensor, name: string) => BatchNormalization({ axis: 3, epsilon: 1.001e-5, name }).call(x);
const relu = (x: SymbolicTensor, name: string) => Activation({ activation: 'relu', name }).call(x);

/** Keras's `densenet.conv_block`: BN-ReLU-1x1 conv (4k), BN-ReLU-3x3 conv (k), concatenated to the input. */
function convBlock(x: SymbolicTensor, growth: number, name: string): SymbolicTensor {
  let x1 = relu(bn(x, `${name}_0_bn`), `${name}_0_relu`);
  x1 = Conv2D({ filters: 4 * growth, kernel_size: 1, use_bias: false, name: `${name}_1_conv` }).call(x1);
  x1 = relu(bn(x1, `${name}_1_bn`), `${name}_1_relu`);
  x1 = Conv2D({ filters: growth, kernel_size: 3, padding: 'same', use_bias: false, name: `${name}_2_conv` }).call(x1);
  return Concatenate({ axis: 3, name: `${name}_concat` }).call([x, x1]);
}

/** Keras's `densenet.transition_block`: BN-ReLU, a 1x1 conv halving the channels, 2x2 average pooling. */
function transitionBlock(x: SymbolicTensor, reduction: number, name: string): SymbolicTensor {
  x = relu(bn(x, `${name}_bn`), `${name}_relu`);
  x = Conv2D({ filters: Math.trunc((x.shape[3] as number) * reduction), kernel_size: 1, use_bias: false, name: `${name}_conv` }).call(x);
  return AveragePooling2D({ pool_size: 2, strides: 2, name: `${name}_pool` }).call(x);
}

const NAMED: Record<string, { name: string; hashes: [string, string] }> = {
  '6,12,24,16': { name: 'densenet121', hashes: ['9d60b8095a5708f2dcce2bca79d332c7', '30ee3e1110167f948a6b9946edeeb738'] },
  '6,12,32,32': { name: 'densenet169', hashes: ['d699b8f76981ab1b30698df4c175e90b', 'b8c4d4c20dd625c148057b9ff1c1176b'] },
  '6,12,48,32': { name: 'densenet201', hashes: ['1ceb130c1ea1b78c3bf6114dbdfd8807', 'c13680b51ded0fb44dff2d8f86ac8bb1'] },
};

/** Keras's `DenseNet(blocks, ...)`; DenseNet121/169/201 fix the blocks. */
export function DenseNet(o: DenseNetOptions = {}): ApplicationSpec {
  const blocks = o.blocks ?? [6, 12, 24, 16];
  const known = NAMED[blocks.join(',')];
  const where = known ? known.name.replace('densenet', 'DenseNet') : 'DenseNet';
  const r = resolveOptions(o, where);
  const { input } = imageInput(o, { defaultSize: 224, minSize: 32, requireFlatten: r.includeTop, weights: r.weights }, where);
  let x = ZeroPadding2D({ padding: [[3, 3], [3, 3]] }).call(input);
  x = Conv2D({ filters: 64, kernel_size: 7, strides: 2, use_bias: false, name: 'conv1/conv' }).call(x);
  x = relu(bn(x, 'conv1/bn'), 'conv1/relu');
  x = ZeroPadding2D({ padding: [[1, 1], [1, 1]] }).call(x);
  x = MaxPooling2D({ pool_size: 3, strides: 2, name: 'pool1' }).call(x);
  blocks.forEach((n, i) => {
    for (let b = 1; b <= n; b++) x = convBlock(x, 32, `conv${i + 2}_block${b}`);
    if (i < 3) x = transitionBlock(x, 0.5, `pool${i + 2}`);
  });
  x = relu(bn(x, 'bn'), 'relu');
  x = averagePoolTop(x, r, where, { avg: 'avg_pool', max: 'max_pool' });
  const name = known?.name ?? 'densenet';
  return {
    name,
    inputs: sourceInputs(o, input),
    outputs: x,
    weights: weightsSource(r, () => {
      if (!known) throw new Error(`${where}: ImageNet weights exist only for DenseNet121, DenseNet169 and DenseNet201`);
      return tfKernelsWeights(r, 'densenet', name, known.hashes);
    }),
  };
}

/** Keras `DenseNet121`. */
export const DenseNet121 = (o: ApplicationOptions = {}): ApplicationSpec => DenseNet({ ...o, blocks: [6, 12, 24, 16] });
/** Keras `DenseNet169`. */
export const DenseNet169 = (o: ApplicationOptions = {}): ApplicationSpec => DenseNet({ ...o, blocks: [6, 12, 32, 32] });
/** Keras `DenseNet201`. */
export const DenseNet201 = (o: ApplicationOptions = {}): ApplicationSpec => DenseNet({ ...o, blocks: [6, 12, 48, 32] });
