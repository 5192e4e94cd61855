import * as ops from '../ops/index.js';
import { Activation } from '../layers/activation.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Concatenate } from '../layers/concatenate.js';
import { Conv2D } from '../layers/conv2d.js';
import { Lambda, knownLambdas, registerLambda } from '../layers/lambda.js';
import { AveragePooling2D, MaxPooling2D } from '../layers/pooling2d.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { averagePoolTop, imageInput, resolveOptions, sourceInputs, tfKernelsWeights, weightsSource, type ApplicationOptions, type ApplicationSpec } from './application.js';

/**
 * The residual scaling `inputs[0] + inputs[1] * scale`. Keras writes it as a
 * Python lambda (bytecode rxkeras never runs); rxkeras names a registered
 * function instead, so its JSON loads in Keras with this name in custom_objects.
 */
export const RESIDUAL_SCALE = 'inception_resnet_v2_scale';

function ensureResidualScale(): void {
  if (knownLambdas().includes(RESIDUAL_SCALE)) return;
  registerLambda(RESIDUAL_SCALE, (inputs, args) => {
    const [x, up] = inputs as ops.Tensor[];
    return ops.add(x, ops.mul(up, args.scale as number));
  });
}

/** Keras's `inception_resnet_v2.conv2d_bn`: Conv2D, BatchNormalization (no scale) unless it has a bias, then the activation. */
function conv2dBn(
  x: SymbolicTensor,
  filters: number,
  kernel: number | [number, number],
  o: { strides?: number; padding?: string; activation?: string | null; useBias?: boolean; name?: string } = {},
): SymbolicTensor {
  const { strides = 1, padding = 'same', activation = 'relu', useBias = false, name } = o;
  x = Conv2D({ filters, kernel_size: kernel, strides, padding, use_bias: useBias, ...(name ? { name } : {}) }).call(x);
  if (!useBias) x = BatchNormalization({ axis: 3, scale: false, ...(name ? { name: `${name}_bn` } : {}) }).call(x);
  if (activation !== null) x = Activation({ activation, ...(name ? { name: `${name}_ac` } : {}) }).call(x);
  return x;
}

type BlockType = 'block35' | 'block17' | 'block8';

/** Keras's `inception_resnet_block`: branches, a 1x1 projection with bias, the scaled residual sum, ReLU unless the last block. */
function inceptionResnetBlock(x: SymbolicTensor, scale: number, type: BlockType, idx: number, activation: string | null = 'relu'): SymbolicTensor {
  let branches: SymbolicTensor[];
  if (type === 'block35') {
    const b0 = conv2dBn(x, 32, 1);
    const b1 = conv2dBn(conv2dBn(x, 32, 1), 32, 3);
    const b2 = conv2dBn(conv2dBn(conv2dBn(x, 32, 1), 48, 3), 64, 3);
    branches = [b0, b1, b2];
  } else if (type === 'block17') {
    const b0 = conv2dBn(x, 192, 1);
    const b1 = conv2dBn(conv2dBn(conv2dBn(x, 128, 1), 160, [1, 7]), 192, [7, 1]);
    branches = [b0, b1];
  } else {
    const b0 = conv2dBn(x, 192, 1);
    const b1 = conv2dBn(conv2dBn(conv2dBn(x, 192, 1), 224, [1, 3]), 256, [3, 1]);
    branches = [b0, b1];
  }
  const blockName = `${type}_${idx}`;
  const mixed = Concatenate({ axis: 3, name: `${blockName}_mixed` }).call(branches);
  const channels = x.shape[3] as number;
  const up = conv2dBn(mixed, channels, 1, { activation: null, useBias: true, name: `${blockName}_conv` });
  x = Lambda({ function: RESIDUAL_SCALE, output_shape: x.shape.slice(1), arguments: { scale }, name: blockName }).call([x, up]);
  if (activation !== null) x = Activation({ activation, name: `${blockName}_ac` }).call(x);
  return x;
}

/** Keras `InceptionResNetV2` (299x299 by default). */
export function InceptionResNetV2(o: ApplicationOptions = {}): ApplicationSpec {
  const where = 'InceptionResNetV2';
  const r = resolveOptions(o, where);
  ensureResidualScale();
  const { input } = imageInput(o, { defaultSize: 299, minSize: 75, requireFlatten: r.includeTop, weights: r.weights }, where);
  const valid = { padding: 'valid' };
  // Stem: 35 x 35 x 192
  let x = conv2dBn(input, 32, 3, { strides: 2, ...valid });
  x = conv2dBn(x, 32, 3, valid);
  x = conv2dBn(x, 64, 3);
  x = MaxPooling2D({ pool_size: 3, strides: 2 }).call(x);
  x = conv2dBn(x, 80, 1, valid);
  x = conv2dBn(x, 192, 3, valid);
  x = MaxPooling2D({ pool_size: 3, strides: 2 }).call(x);

  // Mixed 5b (Inception-A): 35 x 35 x 320
  {
    const b0 = conv2dBn(x, 96, 1);
    const b1 = conv2dBn(conv2dBn(x, 48, 1), 64, 5);
    const b2 = conv2dBn(conv2dBn(conv2dBn(x, 64, 1), 96, 3), 96, 3);
    const bp = conv2dBn(AveragePooling2D({ pool_size: 3, strides: 1, padding: 'same' }).call(x), 64, 1);
    x = Concatenate({ axis: 3, name: 'mixed_5b' }).call([b0, b1, b2, bp]);
  }
  for (let i = 1; i <= 10; i++) x = inceptionResnetBlock(x, 0.17, 'block35', i);

  // Mixed 6a (Reduction-A): 17 x 17 x 1088
  {
    const b0 = conv2dBn(x, 384, 3, { strides: 2, ...valid });
    const b1 = conv2dBn(conv2dBn(conv2dBn(x, 256, 1), 256, 3), 384, 3, { strides: 2, ...valid });
    const bp = MaxPooling2D({ pool_size: 3, strides: 2, padding: 'valid' }).call(x);
    x = Concatenate({ axis: 3, name: 'mixed_6a' }).call([b0, b1, bp]);
  }
  for (let i = 1; i <= 20; i++) x = inceptionResnetBlock(x, 0.1, 'block17', i);

  // Mixed 7a (Reduction-B): 8 x 8 x 2080
  {
    const b0 = conv2dBn(conv2dBn(x, 256, 1), 384, 3, { strides: 2, ...valid });
    const b1 = conv2dBn(conv2dBn(x, 256, 1), 288, 3, { strides: 2, ...valid });
    const b2 = conv2dBn(conv2dBn(conv2dBn(x, 256, 1), 288, 3), 320, 3, { strides: 2, ...valid });
    const bp = MaxPooling2D({ pool_size: 3, strides: 2, padding: 'valid' }).call(x);
    x = Concatenate({ axis: 3, name: 'mixed_7a' }).call([b0, b1, b2, bp]);
  }
  for (let i = 1; i <= 9; i++) x = inceptionResnetBlock(x, 0.2, 'block8', i);
  x = inceptionResnetBlock(x, 1, 'block8', 10, null);

  // Final convolution block: 8 x 8 x 1536
  x = conv2dBn(x, 1536, 1, { name: 'conv_7b' });
  x = averagePoolTop(x, r, where);
  return {
    name: 'inception_resnet_v2',
    inputs: sourceInputs(o, input),
    outputs: x,
    weights: weightsSource(r, () => tfKernelsWeights(r, 'inception_resnet_v2', 'inception_resnet_v2', ['e693bd0210a403b3192acc6073ad2e96', 'd19885ff4a710c122648d3b5c3b684e4'])),
  };
}
