/**
 * The random ops, as tfjs's, except that a compiled step that traced one
 * can make it again from another step's seed (see compiled/jit.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { noteRandom } from './compiled/random-record.js';

export const randomUniform: typeof tf.randomUniform = (shape, minval, maxval, dtype, seed) =>
  noteRandom(tf.randomUniform(shape, minval, maxval, dtype, seed), typeof seed === 'number' ? seed : undefined, (s) => tf.randomUniform(shape, minval, maxval, dtype, s));

export const randomNormal: typeof tf.randomNormal = (shape, mean, stdDev, dtype, seed) =>
  noteRandom(tf.randomNormal(shape, mean, stdDev, dtype, seed), seed, (s) => tf.randomNormal(shape, mean, stdDev, dtype, s));

export const truncatedNormal: typeof tf.truncatedNormal = (shape, mean, stdDev, dtype, seed) =>
  noteRandom(tf.truncatedNormal(shape, mean, stdDev, dtype, seed), seed, (s) => tf.truncatedNormal(shape, mean, stdDev, dtype, s));
