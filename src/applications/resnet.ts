import { Activation } from '../layers/activation.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Conv2D } from '../layers/conv2d.js';
import { Add } from '../layers/merge.js';
import { MaxPooling2D } from '../layers/pooling2d.js';
import { ZeroPadding2D } from '../layers/zero-padding.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { averagePoolTop, imageInput, resolveOptions, sourceInputs, tfKernelsWeights, weightsSource, type ApplicationOptions, type ApplicationSpec } from './application.js';

const BN = { axis: 3, epsilon: 1.001e-5 };

/** Keras's `resnet.block1`: a bottleneck residual block (1x1, 3x3, 1x1) with a projection or identity shortcut. */
function block1(x: SymbolicTensor, filters: number, stride: number, convShortcut: boolean, name: string): SymbolicTensor {
  let shortcut = x;
  if (convShortcut) {
    shortcut = Conv2D({ filters: 4 * filters, kernel_size: 1, strides: stride, name: `${name}_0_conv` }).call(x);
    shortcut = BatchNormalization({ ...BN, name: `${name}_0_bn` }).call(shortcut);
  }
  x = Conv2D({ filters, kernel_size: 1, strides: stride, name: `${name}_1_conv` }).call(x);
  x = BatchNormalization({ ...BN, name: `${name}_1_bn` }).call(x);
  x = Activation({ activation: 'relu', name: `${name}_1_relu` }).call(x);
  x = Conv2D({ filters, kernel_size: 3, padding: 'same', name: `${name}_2_conv` }).call(x);
  x = BatchNormalization({ ...BN, name: `${name}_2_bn` }).call(x);
  x = Activation({ activation: 'relu', name: `${name}_2_relu` }).call(x);
  x = Conv2D({ filters: 4 * filters, kernel_size: 1, name: `${name}_3_conv` }).call(x);
  x = BatchNormalization({ ...BN, name: `${name}_3_bn` }).call(x);
  x = Add({ name: `${name}_add` }).call([shortcut, x]);
  return Activation({ activation: 'relu', name: `${name}_out` }).call(x);
}

/** Keras's `resnet.stack1`. */
function stack1(x: SymbolicTensor, filters: number, blocks: number, stride1: number, name: string): SymbolicTensor {
  x = block1(x, filters, stride1, true, `${name}_block1`);
  for (let i = 2; i <= blocks; i++) x = block1(x, filters, 1, false, `${name}_block${i}`);
  return x;
}

/** Keras `ResNet50` (tf.keras 2's `resnet.ResNet` with `stack1` blocks 3, 4, 6, 3). */
export function ResNet50(o: ApplicationOptions = {}): ApplicationSpec {
  const where = 'ResNet50';
  const r = resolveOptions(o, where);
  const { input } = imageInput(o, { defaultSize: 224, minSize: 32, requireFlatten: r.includeTop, weights: r.weights }, where);
  let x = ZeroPadding2D({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }).call(input);
  x = Conv2D({ filters: 64, kernel_size: 7, strides: 2, use_bias: true, name: 'conv1_conv' }).call(x);
  x = BatchNormalization({ ...BN, name: 'conv1_bn' }).call(x);
  x = Activation({ activation: 'relu', name: 'conv1_relu' }).call(x);
  x = ZeroPadding2D({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }).call(x);
  x = MaxPooling2D({ pool_size: 3, strides: 2, name: 'pool1_pool' }).call(x);
  x = stack1(x, 64, 3, 1, 'conv2');
  x = stack1(x, 128, 4, 2, 'conv3');
  x = stack1(x, 256, 6, 2, 'conv4');
  x = stack1(x, 512, 3, 2, 'conv5');
  x = averagePoolTop(x, r, where, { avg: 'avg_pool', max: 'max_pool' });
  return {
    name: 'resnet50',
    inputs: sourceInputs(o, input),
    outputs: x,
    weights: weightsSource(r, () => tfKernelsWeights(r, 'resnet', 'resnet50', ['2cb95161c43110f7111970584f804107', '4d473c1dd8becc155b73f8504c6f6626'])),
  };
}
