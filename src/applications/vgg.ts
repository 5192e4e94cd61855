import { Conv2D } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { Flatten } from '../layers/flatten.js';
import { MaxPooling2D } from '../layers/pooling2d.js';
import { imageInput, KERAS_WEIGHTS_BASE, pool, resolveOptions, sourceInputs, weightsSource, type ApplicationOptions, type ApplicationSpec } from './application.js';
import { validateActivation } from './imagenet-utils.js';

/** Convolutions per block: VGG16 has 2, 2, 3, 3, 3; VGG19 2, 2, 4, 4, 4. */
const BLOCKS = { vgg16: [2, 2, 3, 3, 3], vgg19: [2, 2, 4, 4, 4] } as const;
const HASHES = {
  vgg16: ['64373286793e3c8b2b4e3219cbf3544b', '6d6bbae143d832006294945121d1f1fc'],
  vgg19: ['cbe5617147190e668d6c5d5026f83318', '253f8cb515780f3b799900260a226db6'],
} as const;

function vgg(name: 'vgg16' | 'vgg19', o: ApplicationOptions): ApplicationSpec {
  const where = name === 'vgg16' ? 'VGG16' : 'VGG19';
  const r = resolveOptions(o, where);
  const { input } = imageInput(o, { defaultSize: 224, minSize: 32, requireFlatten: r.includeTop, weights: r.weights }, where);
  let x = input;
  BLOCKS[name].forEach((convs, b) => {
    const filters = Math.min(64 * 2 ** b, 512);
    for (let i = 1; i <= convs; i++)
      x = Conv2D({ filters, kernel_size: [3, 3], activation: 'relu', padding: 'same', name: `block${b + 1}_conv${i}` }).call(x);
    x = MaxPooling2D({ pool_size: [2, 2], strides: [2, 2], name: `block${b + 1}_pool` }).call(x);
  });
  if (r.includeTop) {
    x = Flatten({ name: 'flatten' }).call(x);
    x = Dense({ units: 4096, activation: 'relu', name: 'fc1' }).call(x);
    x = Dense({ units: 4096, activation: 'relu', name: 'fc2' }).call(x);
    validateActivation(r.classifierActivation, r.weights, where);
    x = Dense({ units: r.classes, activation: r.classifierActivation, name: 'predictions' }).call(x);
  } else x = pool(x, r.pooling);
  const file = r.includeTop ? `${name}_weights_tf_dim_ordering_tf_kernels.h5` : `${name}_weights_tf_dim_ordering_tf_kernels_notop.h5`;
  return {
    name,
    inputs: sourceInputs(o, input),
    outputs: x,
    weights: weightsSource(r, () => ({ fileName: file, url: `${KERAS_WEIGHTS_BASE}${name}/${file}`, fileHash: HASHES[name][r.includeTop ? 0 : 1] })),
  };
}

/** Keras `VGG16` (tf.keras 2's layer names and weights). */
export const VGG16 = (o: ApplicationOptions = {}): ApplicationSpec => vgg('vgg16', o);

/** Keras `VGG19`. */
export const VGG19 = (o: ApplicationOptions = {}): ApplicationSpec => vgg('vgg19', o);
