import { InvalidArgumentError } from '../core/errors.js';
import { foldIn, seedOf, type Key } from '../core/rng.js';
import type { ApplyOptions } from './layer.js';

/**
 * The tfjs seed for a noise layer's training call: `options.key`, with the
 * config's `seed` folded in when it has one (as Dropout does). A training
 * call without a key is an error: randomness never comes from anywhere else.
 */
export function noiseSeed(options: ApplyOptions, seed: number | null, where: string): number {
  if (options.key === undefined) throw new InvalidArgumentError(`${where}: options.key`, 'a random key in training mode', undefined);
  const key: Key = seed === null ? options.key : foldIn(options.key, seed);
  return seedOf(key);
}
