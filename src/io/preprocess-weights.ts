import * as ops from '../ops/index.js';
import type { H5Array } from '../core/hdf5.js';

/** Who wrote a weights group: `keras_version` ('1' when the group has none, as Keras assumes) and `backend`. */
export interface WeightsOrigin {
  kerasVersion: string;
  backend?: string;
}

/** A layer as weight loading sees it: its class, config and the shapes of its weights in order. */
export interface LayerWeightsSpec {
  className: string;
  config: Record<string, unknown>;
  shapes: readonly (readonly number[])[];
  /** For a nested model: each inner layer with its trainable and non-trainable weight shapes. */
  sublayers?: { spec: LayerWeightsSpec; trainable: number; nonTrainable: number }[];
}

const CONV_CLASSES = new Set(['Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose', 'ConvLSTM2D']);

/**
 * Keras's `preprocess_weights_for_loading` (keras/engine/saving.py, Keras
 * 2.2-2.3): converts a layer's weights as a file holds them into the arrays
 * the layer expects. Layers inside `Bidirectional`, `TimeDistributed` and
 * nested models are converted one by one. Keras 1 files: the LSTM's 12 and
 * GRU's 9 per-gate arrays are concatenated in Keras 2's gate order, and
 * Keras 1 kernel layouts are transposed. Files written with the Theano
 * backend (which convolves, where rxkeras and TensorFlow correlate) have
 * their convolution kernels flipped, and a kernel in Theano's layout is
 * transposed to the layer's. Anything else passes through unchanged.
 */
export function preprocessWeights(spec: LayerWeightsSpec, weights: H5Array[], origin: WeightsOrigin): H5Array[] {
  if (spec.className === 'Bidirectional') weights = nestedBidirectional(spec, weights, origin);
  else if (spec.className === 'TimeDistributed') {
    const inner = innerSpec(spec.config.layer, spec.shapes);
    if (inner) weights = preprocessWeights(inner, weights, origin);
  } else if (spec.sublayers) weights = nestedModel(spec.sublayers, weights, origin);
  if (isKeras1(origin.kerasVersion)) weights = keras1Weights(spec, weights);
  if (CONV_CLASSES.has(spec.className) && weights.length > 0) weights = convKernels(spec, weights, origin);
  return weights;
}

/** Keras 1 wrote no `keras_version` into a weights group: Keras reads its absence as '1'. */
function isKeras1(version: string): boolean {
  return version === '1' || version.startsWith('1.');
}

function innerSpec(layer: unknown, shapes: LayerWeightsSpec['shapes']): LayerWeightsSpec | undefined {
  if (typeof layer !== 'object' || layer === null) return undefined;
  const { class_name, config } = layer as { class_name?: unknown; config?: unknown };
  if (typeof class_name !== 'string' || typeof config !== 'object' || config === null) return undefined;
  return { className: class_name, config: config as Record<string, unknown>, shapes };
}

/** `convert_nested_bidirectional`: the first half of the arrays is the forward layer's, the second the backward's. */
function nestedBidirectional(spec: LayerWeightsSpec, weights: H5Array[], origin: WeightsOrigin): H5Array[] {
  const half = Math.floor(weights.length / 2);
  const shapesHalf = Math.floor(spec.shapes.length / 2);
  const forward = innerSpec(spec.config.layer, spec.shapes.slice(0, shapesHalf));
  const backward = innerSpec(spec.config.backward_layer ?? spec.config.layer, spec.shapes.slice(shapesHalf));
  if (!forward || !backward) return weights;
  return [...preprocessWeights(forward, weights.slice(0, half), origin), ...preprocessWeights(backward, weights.slice(half), origin)];
}

/** `convert_nested_model`: every inner layer's trainable weights, then every inner layer's non-trainable ones. */
function nestedModel(sublayers: NonNullable<LayerWeightsSpec['sublayers']>, weights: H5Array[], origin: WeightsOrigin): H5Array[] {
  const out: H5Array[] = [];
  let rest = weights;
  for (const kind of ['trainable', 'nonTrainable'] as const) {
    for (const sub of sublayers) {
      const n = sub[kind];
      if (n === 0) continue;
      out.push(...preprocessWeights(sub.spec, rest.slice(0, n), origin));
      rest = rest.slice(n);
    }
  }
  return [...out, ...rest];
}

/** The `original_keras_version == '1'` branch of preprocess_weights_for_loading. */
function keras1Weights(spec: LayerWeightsSpec, w: H5Array[]): H5Array[] {
  const c = spec.config;
  const channelsFirst = c.data_format === 'channels_first';
  switch (spec.className) {
    case 'Conv1D': {
      const s = w[0].shape;
      if (s.length !== 4) return w; // already Keras 2's (filter_length, input_dim, filters)
      const k = (Array.isArray(c.kernel_size) ? c.kernel_size[0] : c.kernel_size) as number;
      // Keras 1.1 stored (filters, input_dim, filter_length, 1); Keras 1.2 (filter_length, 1, input_dim, filters).
      const kernel = s[0] !== k || s[1] !== 1 || s[3] !== c.filters ? transpose(w[0], [2, 3, 1, 0]) : w[0];
      return [map(kernel, (x) => ops.squeeze(x, [1])), ...w.slice(1)];
    }
    case 'Conv2D':
      return channelsFirst ? [transpose(w[0], [2, 3, 1, 0]), ...w.slice(1)] : w;
    case 'Conv2DTranspose':
      return [transpose(w[0], channelsFirst ? [2, 3, 0, 1] : [0, 1, 3, 2]), ...w.slice(1)];
    case 'Conv3D':
      return channelsFirst ? [transpose(w[0], [2, 3, 4, 1, 0]), ...w.slice(1)] : w;
    case 'GRU':
      // Keras 1: W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h; Keras 2 concatenates the gates z, r, h.
      return w.length === 9 ? [0, 1, 2].map((k) => concatLast([w[k], w[k + 3], w[k + 6]])) : w;
    case 'LSTM':
    case 'ConvLSTM2D': {
      if (w.length !== 12) return w;
      // Keras 1: i, c, f, o (W, U, b each); Keras 2: i, f, c, o.
      const [kernel, recurrent, bias] = [0, 1, 2].map((k) => concatLast([w[k], w[k + 6], w[k + 3], w[k + 9]]));
      if (spec.className === 'ConvLSTM2D' && channelsFirst) return [transpose(kernel, [2, 3, 1, 0]), transpose(recurrent, [2, 3, 1, 0]), bias];
      return [kernel, recurrent, bias];
    }
    default:
      return w;
  }
}

/** The convolution branch: Theano kernels flipped (`_need_convert_kernel`, `conv_utils.convert_kernel`), then a Theano layout transposed. */
function convKernels(spec: LayerWeightsSpec, weights: H5Array[], origin: WeightsOrigin): H5Array[] {
  const w = [...weights];
  const both = spec.className === 'ConvLSTM2D' ? [0, 1] : [0];
  if (origin.backend === 'theano') for (const i of both) w[i] = map(w[i], flipSpatial);
  // Keras transposes any kernel whose shape differs; only one that then fits is, so a wrong file still reports its own shape.
  const expected = (spec.shapes[0] ?? []).join(',');
  const theanoLayout = [3, 2, 0, 1];
  if (w[0].shape.length === 4 && w[0].shape.join(',') !== expected && theanoLayout.map((i) => w[0].shape[i]).join(',') === expected)
    for (const i of both) w[i] = transpose(w[i], theanoLayout);
  return w;
}

/** Reverses every axis but the last two, as `convert_kernel` does: convolution <-> correlation. */
function flipSpatial(x: ops.Tensor): ops.Tensor {
  const axes = x.shape.slice(0, -2).map((_, i) => i);
  return axes.length === 0 ? ops.clone(x) : ops.reverse(x, axes);
}

/** A kernel of another rank is left as it is: the shape check that follows reports it. */
function transpose(a: H5Array, perm: number[]): H5Array {
  if (a.shape.length !== perm.length) return a;
  return map(a, (x) => ops.transpose(x, perm));
}

function concatLast(arrays: H5Array[]): H5Array {
  const ts = arrays.map(toTensor);
  const out = fromTensor(ops.concat(ts, -1), arrays[0].dtype);
  ops.dispose(ts);
  return out;
}

function map(a: H5Array, f: (x: ops.Tensor) => ops.Tensor): H5Array {
  const x = toTensor(a);
  const y = f(x);
  const out = fromTensor(y, a.dtype);
  ops.dispose([x, y]);
  return out;
}

function toTensor(a: H5Array): ops.Tensor {
  return ops.tensor(a.data, a.shape, a.dtype) as ops.Tensor;
}

function fromTensor(t: ops.Tensor, dtype: H5Array['dtype']): H5Array {
  return { shape: [...t.shape], data: t.dataSync() as Float32Array | Int32Array, dtype };
}
