import { InvalidArgumentError } from '../core/errors.js';
import type { Shape } from '../layers/layer.js';

/** Where a model's input images keep their channels (rxkeras, as tf.keras by default, uses channels_last). */
export type DataFormat = 'channels_last' | 'channels_first';

export interface InputShapeRules {
  /** The model's default image size (224, 299 or 331). */
  defaultSize: number;
  /** The smallest height and width the model accepts. */
  minSize: number;
  /** True when a Flatten / Dense top needs a static size (include_top). */
  requireFlatten: boolean;
  weights: unknown;
  dataFormat?: DataFormat;
}

/**
 * Keras's `imagenet_utils.obtain_input_shape`: the input shape (without the
 * batch) a model is built for, with Keras's checks and messages.
 */
export function obtainInputShape(inputShape: Shape | null | undefined, rules: InputShapeRules, where: string): Shape {
  const { defaultSize, minSize, requireFlatten, weights } = rules;
  const first = rules.dataFormat === 'channels_first';
  const imagenet = weights === 'imagenet';
  const bad = (expected: string) => new InvalidArgumentError(`${where}: input_shape`, expected, inputShape);
  let defaultShape: Shape;
  if (!imagenet && inputShape && inputShape.length === 3) {
    defaultShape = first ? [inputShape[0], defaultSize, defaultSize] : [defaultSize, defaultSize, inputShape[2]];
  } else defaultShape = first ? [3, defaultSize, defaultSize] : [defaultSize, defaultSize, 3];
  if (imagenet && requireFlatten) {
    if (inputShape && !sameShape(inputShape, defaultShape))
      throw bad(`[${defaultShape.join(', ')}] when include_top is true and weights are 'imagenet'`);
    return defaultShape;
  }
  let shape: Shape;
  if (inputShape && inputShape.length > 0) {
    if (inputShape.length !== 3) throw bad('three integers (height, width, channels)');
    const channels = first ? inputShape[0] : inputShape[2];
    if (channels !== 3 && imagenet) throw bad("3 channels with 'imagenet' weights");
    const [h, w] = first ? inputShape.slice(1) : inputShape.slice(0, 2);
    if ((h !== null && h < minSize) || (w !== null && w < minSize)) throw bad(`a size of at least ${minSize}x${minSize}`);
    shape = inputShape;
  } else shape = requireFlatten ? defaultShape : first ? [3, null, null] : [null, null, 3];
  if (requireFlatten && shape.includes(null)) throw bad('a static input_shape (no null) when include_top is true');
  return shape;
}

/** Keras's `imagenet_utils.correct_pad`: the zero padding before a strided 'valid' convolution (TensorFlow's 'same'). */
export function correctPad(inputShape: Shape, kernelSize: number | [number, number]): [[number, number], [number, number]] {
  const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
  const h = inputShape[1];
  const w = inputShape[2];
  const adjust = h === null || w === null ? [1, 1] : [1 - (h % 2), 1 - (w % 2)];
  const correct = [Math.floor(kh / 2), Math.floor(kw / 2)];
  return [
    [correct[0] - adjust[0], correct[0]],
    [correct[1] - adjust[1], correct[1]],
  ];
}

/** Keras's `validate_activation`: pretrained tops take only softmax or no activation. */
export function validateActivation(activation: string | null, weights: unknown, where: string): void {
  if (weights === null || weights === undefined) return;
  if (activation !== 'softmax' && activation !== null && activation !== 'linear')
    throw new InvalidArgumentError(`${where}: classifier_activation`, "'softmax' or null when loading pretrained weights", activation);
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
