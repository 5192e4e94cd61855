import { Activation } from '../layers/activation.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Conv2D } from '../layers/conv2d.js';
import { Add } from '../layers/merge.js';
import { MaxPooling2D } from '../layers/pooling2d.js';
import { SeparableConv2D } from '../layers/separable-conv.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { averagePoolTop, imageInput, resolveOptions, sourceInputs, tfKernelsWeights, weightsSource, type ApplicationOptions, type ApplicationSpec } from './application.js';

const bn = (x: SymbolicTensor, name?: string) => BatchNormalization({ axis: -1, ...(name ? { name } : {}) }).call(x);
const relu = (x: SymbolicTensor, name: string) => Activation({ activation: 'relu', name }).call(x);
const sep = (x: SymbolicTensor, filters: number, name: string) =>
  SeparableConv2D({ filters, kernel_size: [3, 3], padding: 'same', use_bias: false, name }).call(x);
/** The unnamed strided 1x1 projection of the residual (Keras leaves its Conv2D and BatchNormalization unnamed). */
const projection = (x: SymbolicTensor, filters: number) =>
  bn(Conv2D({ filters, kernel_size: [1, 1], strides: [2, 2], padding: 'same', use_bias: false }).call(x));
const maxPool = (x: SymbolicTensor, name: string) => MaxPooling2D({ pool_size: [3, 3], strides: [2, 2], padding: 'same', name }).call(x);

/** Keras `Xception` (299x299 by default). */
export function Xception(o: ApplicationOptions = {}): ApplicationSpec {
  const where = 'Xception';
  const r = resolveOptions(o, where);
  const { input } = imageInput(o, { defaultSize: 299, minSize: 71, requireFlatten: r.includeTop, weights: r.weights }, where);
  let x = Conv2D({ filters: 32, kernel_size: [3, 3], strides: [2, 2], use_bias: false, name: 'block1_conv1' }).call(input);
  x = relu(bn(x, 'block1_conv1_bn'), 'block1_conv1_act');
  x = Conv2D({ filters: 64, kernel_size: [3, 3], use_bias: false, name: 'block1_conv2' }).call(x);
  x = relu(bn(x, 'block1_conv2_bn'), 'block1_conv2_act');

  // Entry flow: blocks 2-4, each with a strided projection shortcut.
  [128, 256, 728].forEach((filters, i) => {
    const b = `block${i + 2}`;
    const residual = projection(x, filters);
    if (i > 0) x = relu(x, `${b}_sepconv1_act`);
    x = bn(sep(x, filters, `${b}_sepconv1`), `${b}_sepconv1_bn`);
    x = relu(x, `${b}_sepconv2_act`);
    x = bn(sep(x, filters, `${b}_sepconv2`), `${b}_sepconv2_bn`);
    x = maxPool(x, `${b}_pool`);
    x = Add({}).call([x, residual]);
  });

  // Middle flow: blocks 5-12, identity shortcuts.
  for (let i = 0; i < 8; i++) {
    const residual = x;
    const b = `block${i + 5}`;
    for (let j = 1; j <= 3; j++) {
      x = relu(x, `${b}_sepconv${j}_act`);
      x = bn(sep(x, 728, `${b}_sepconv${j}`), `${b}_sepconv${j}_bn`);
    }
    x = Add({}).call([x, residual]);
  }

  // Exit flow.
  const residual = projection(x, 1024);
  x = relu(x, 'block13_sepconv1_act');
  x = bn(sep(x, 728, 'block13_sepconv1'), 'block13_sepconv1_bn');
  x = relu(x, 'block13_sepconv2_act');
  x = bn(sep(x, 1024, 'block13_sepconv2'), 'block13_sepconv2_bn');
  x = maxPool(x, 'block13_pool');
  x = Add({}).call([x, residual]);
  x = relu(bn(sep(x, 1536, 'block14_sepconv1'), 'block14_sepconv1_bn'), 'block14_sepconv1_act');
  x = relu(bn(sep(x, 2048, 'block14_sepconv2'), 'block14_sepconv2_bn'), 'block14_sepconv2_act');

  x = averagePoolTop(x, r, where);
  return {
    name: 'xception',
    inputs: sourceInputs(o, input),
    outputs: x,
    weights: weightsSource(r, () => tfKernelsWeights(r, 'xception', 'xception', ['0a58e3b7378bc2990ea3b43d5981f1f6', 'b0042744bf5b25fce3cb969f33bebb97'])),
  };
}
