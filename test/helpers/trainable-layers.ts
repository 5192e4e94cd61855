/**
 * The layer classes that train, each built from its minimal Keras config
 * with an input shape its name suggests; shared by the training tests of
 * the eager backends and of the compiled backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { leaves, type TensorTree } from '../../src/core/tree.js';
import type { Layer, Shape, Shapes } from '../../src/layers/layer.js';
import { knownLayers, layerFromConfig } from '../../src/layers/registry.js';
import { minimal } from './minimal-configs.js';

const TWO_INPUTS = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot', 'Attention', 'AdditiveAttention', 'MultiHeadAttention']);

/** Input shape(s) by class: the data rank its name says (1D, 2D, 3D), else a sequence. */
export function inputShapeOf(name: string): Shapes {
  if (TWO_INPUTS.has(name)) return [[null, 4, 3], [null, 4, 3]];
  if (name === 'Embedding') return [null, 5];
  if (name === 'RepeatVector') return [null, 4];
  if (name === 'ConvLSTM2D') return [null, 3, 5, 5, 2];
  const rank = /([123])D(Transpose)?$/.exec(name)?.[1];
  if (rank === '1') return [null, 6, 3];
  if (rank === '2') return [null, 6, 6, 2];
  if (rank === '3') return [null, 5, 5, 5, 2];
  return [null, 4, 3];
}

/** Classes with trainable weights in their minimal config: the detection below must find at least these. */
export const EXPECTED_TRAINABLE = [
  'AdditiveAttention', 'BatchNormalization', 'Bidirectional', 'Conv1D', 'Conv2D', 'Conv2DTranspose', 'Conv3D', 'Conv3DTranspose',
  'ConvLSTM2D', 'Dense', 'DepthwiseConv2D', 'Embedding', 'GRU', 'LSTM', 'LayerNormalization', 'LocallyConnected1D',
  'LocallyConnected2D', 'MultiHeadAttention', 'PReLU', 'SeparableConv1D', 'SeparableConv2D', 'SimpleRNN', 'TimeDistributed',
  'RNN',
];

/** Deterministic values in [lo, hi), identical on every backend. */
export function values(seed: number, n: number, lo: number, hi: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return lo + ((s >>> 0) / 2 ** 32) * (hi - lo);
  });
}

export const isList = (s: Shapes): s is Shape[] => s.length > 0 && Array.isArray(s[0]);
// Aliases (Convolution2D, SeparableConvolution1D, ...) take their class's config.
const configOf = (name: string) => minimal[name] ?? minimal[name.replace('Convolution', 'Conv')] ?? {};
export const make = (name: string): Layer => layerFromConfig({ class_name: name, config: { ...configOf(name), name: `under_test_${name.toLowerCase()}` } });

/** Each Keras class once (aliases build the same class); InputLayer is no layer to call. */
export const classes = knownLayers().filter((name) => name !== 'InputLayer' && make(name).className === name);

function trainableSize(name: string, shape: Shapes): number {
  const { params, state } = make(name).init(1, shape);
  const size = leaves(params as TensorTree).reduce((n, [, t]) => n + t.size, 0);
  tf.dispose([...leaves(params as TensorTree), ...leaves(state as TensorTree)].map(([, t]) => t));
  return size;
}

/** The classes with trainable weights in their minimal config. */
export const trainableClasses = (): string[] => classes.filter((name) => trainableSize(name, inputShapeOf(name)) > 0);

/** Batch inputs for a class's input shape(s): integer ids for Embedding, values in [-1, 1) otherwise. */
export function inputsFor(name: string, shape: Shapes, batch: number): tf.Tensor[] {
  const shapes = isList(shape) ? shape : [shape];
  return shapes.map((s, i) => {
    const concrete = s.map((d) => d ?? batch);
    const n = tf.util.sizeFromShape(concrete);
    return name === 'Embedding' ? tf.tensor(values(11 + i, n, 0, 4).map(Math.floor), concrete, 'int32') : tf.tensor(values(11 + i, n, -1, 1), concrete);
  });
}
