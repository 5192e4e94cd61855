import { Activation } from '../layers/activation.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Concatenate } from '../layers/concatenate.js';
import { Conv2D } from '../layers/conv2d.js';
import { AveragePooling2D, MaxPooling2D } from '../layers/pooling2d.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { averagePoolTop, imageInput, resolveOptions, sourceInputs, tfKernelsWeights, weightsSource, type ApplicationOptions, type ApplicationSpec } from './application.js';

/** Keras's `inception_v3.conv2d_bn`: Conv2D without bias, BatchNormalization without scale, ReLU (default names unless `name`). */
function conv2dBn(x: SymbolicTensor, filters: number, rows: number, cols: number, padding = 'same', strides: [number, number] = [1, 1], name?: string): SymbolicTensor {
  x = Conv2D({ filters, kernel_size: [rows, cols], strides, padding, use_bias: false, ...(name ? { name: `${name}_conv` } : {}) }).call(x);
  x = BatchNormalization({ axis: 3, scale: false, ...(name ? { name: `${name}_bn` } : {}) }).call(x);
  return Activation({ activation: 'relu', ...(name ? { name } : {}) }).call(x);
}

const avgPool3 = (x: SymbolicTensor) => AveragePooling2D({ pool_size: [3, 3], strides: [1, 1], padding: 'same' }).call(x);
const maxPool3 = (x: SymbolicTensor) => MaxPooling2D({ pool_size: [3, 3], strides: [2, 2] }).call(x);
const concat = (xs: SymbolicTensor[], name?: string) => Concatenate({ axis: 3, ...(name ? { name } : {}) }).call(xs);

/** Keras `InceptionV3` (299x299 by default). */
export function InceptionV3(o: ApplicationOptions = {}): ApplicationSpec {
  const where = 'InceptionV3';
  const r = resolveOptions(o, where);
  const { input } = imageInput(o, { defaultSize: 299, minSize: 75, requireFlatten: r.includeTop, weights: r.weights }, where);
  let x = conv2dBn(input, 32, 3, 3, 'valid', [2, 2]);
  x = conv2dBn(x, 32, 3, 3, 'valid');
  x = conv2dBn(x, 64, 3, 3);
  x = maxPool3(x);
  x = conv2dBn(x, 80, 1, 1, 'valid');
  x = conv2dBn(x, 192, 3, 3, 'valid');
  x = maxPool3(x);

  // mixed 0, 1, 2: 35 x 35 x 256 / 288
  [32, 64, 64].forEach((poolFilters, i) => {
    const b1 = conv2dBn(x, 64, 1, 1);
    let b5 = conv2dBn(x, 48, 1, 1);
    b5 = conv2dBn(b5, 64, 5, 5);
    let b3 = conv2dBn(x, 64, 1, 1);
    b3 = conv2dBn(b3, 96, 3, 3);
    b3 = conv2dBn(b3, 96, 3, 3);
    const bp = conv2dBn(avgPool3(x), poolFilters, 1, 1);
    x = concat([b1, b5, b3, bp], `mixed${i}`);
  });

  // mixed 3: 17 x 17 x 768
  {
    const b3 = conv2dBn(x, 384, 3, 3, 'valid', [2, 2]);
    let bd = conv2dBn(x, 64, 1, 1);
    bd = conv2dBn(bd, 96, 3, 3);
    bd = conv2dBn(bd, 96, 3, 3, 'valid', [2, 2]);
    x = concat([b3, bd, maxPool3(x)], 'mixed3');
  }

  // mixed 4, 5, 6, 7: 17 x 17 x 768
  [128, 160, 160, 192].forEach((f, i) => {
    const b1 = conv2dBn(x, 192, 1, 1);
    let b7 = conv2dBn(x, f, 1, 1);
    b7 = conv2dBn(b7, f, 1, 7);
    b7 = conv2dBn(b7, 192, 7, 1);
    let bd = conv2dBn(x, f, 1, 1);
    bd = conv2dBn(bd, f, 7, 1);
    bd = conv2dBn(bd, f, 1, 7);
    bd = conv2dBn(bd, f, 7, 1);
    bd = conv2dBn(bd, 192, 1, 7);
    const bp = conv2dBn(avgPool3(x), 192, 1, 1);
    x = concat([b1, b7, bd, bp], `mixed${4 + i}`);
  });

  // mixed 8: 8 x 8 x 1280
  {
    let b3 = conv2dBn(x, 192, 1, 1);
    b3 = conv2dBn(b3, 320, 3, 3, 'valid', [2, 2]);
    let b7 = conv2dBn(x, 192, 1, 1);
    b7 = conv2dBn(b7, 192, 1, 7);
    b7 = conv2dBn(b7, 192, 7, 1);
    b7 = conv2dBn(b7, 192, 3, 3, 'valid', [2, 2]);
    x = concat([b3, b7, maxPool3(x)], 'mixed8');
  }

  // mixed 9, 10: 8 x 8 x 2048
  for (let i = 0; i < 2; i++) {
    const b1 = conv2dBn(x, 320, 1, 1);
    let b3 = conv2dBn(x, 384, 1, 1);
    b3 = concat([conv2dBn(b3, 384, 1, 3), conv2dBn(b3, 384, 3, 1)], `mixed9_${i}`);
    let bd = conv2dBn(x, 448, 1, 1);
    bd = conv2dBn(bd, 384, 3, 3);
    bd = concat([conv2dBn(bd, 384, 1, 3), conv2dBn(bd, 384, 3, 1)]);
    const bp = conv2dBn(avgPool3(x), 192, 1, 1);
    x = concat([b1, b3, bd, bp], `mixed${9 + i}`);
  }

  x = averagePoolTop(x, r, where);
  return {
    name: 'inception_v3',
    inputs: sourceInputs(o, input),
    outputs: x,
    weights: weightsSource(r, () => tfKernelsWeights(r, 'inception_v3', 'inception_v3', ['9a0d58056eeedaa3f26cb7ebd46da564', 'bcbd6486424b2319ff4ef7d526e38f63'])),
  };
}
