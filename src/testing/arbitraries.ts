import fc from 'fast-check';
import * as ops from '../ops/index.js';

/** The contents of a tensor, as plain data (printable and shrinkable by fast-check); `toTensor` makes the tensor. */
export interface TensorData {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  values: number[];
}

export interface ShapeOptions {
  minRank?: number;
  maxRank?: number;
  minDim?: number;
  maxDim?: number;
}

/** Tensor shapes: rank in [minRank, maxRank] (default 0..4), each dimension in [minDim, maxDim] (default 1..5). */
export function shapes(o: ShapeOptions = {}): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: o.minDim ?? 1, max: o.maxDim ?? 5 }), { minLength: o.minRank ?? 0, maxLength: o.maxRank ?? 4 });
}

export interface TensorDataOptions {
  /** A fixed shape, or shapes to draw from (default `shapes()`). */
  shape?: number[] | fc.Arbitrary<number[]>;
  /** A dtype, or several to draw from (default 'float32'). */
  dtype?: TensorData['dtype'] | TensorData['dtype'][];
  /** Range of the values (default -10..10; integers for int32). */
  min?: number;
  max?: number;
  /** Also draw NaN (float32 only; default false). */
  nan?: boolean;
  /** Also draw +Infinity and -Infinity (float32 only; default false). */
  infinity?: boolean;
}

/** Tensor contents: a shape, a dtype and one value per element, with NaN and infinities on request. */
export function tensorData(o: TensorDataOptions = {}): fc.Arbitrary<TensorData> {
  const shapeArb = Array.isArray(o.shape) ? fc.constant(o.shape) : (o.shape ?? shapes());
  const dtypes = o.dtype === undefined ? ['float32' as const] : Array.isArray(o.dtype) ? o.dtype : [o.dtype];
  const min = o.min ?? -10;
  const max = o.max ?? 10;
  return fc.tuple(shapeArb, fc.constantFrom(...dtypes)).chain(([shape, dtype]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const value: fc.Arbitrary<number> =
      dtype === 'bool'
        ? fc.constantFrom(0, 1)
        : dtype === 'int32'
          ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
          : fc.oneof(
              { weight: 10, arbitrary: fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true }) },
              ...(o.nan ? [{ weight: 1, arbitrary: fc.constant(Number.NaN) }] : []),
              ...(o.infinity ? [{ weight: 1, arbitrary: fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY) }] : []),
            );
    return fc.array(value, { minLength: n, maxLength: n }).map((values) => ({ shape, dtype, values }));
  });
}

/** The tensor of `TensorData` (the caller owns it). */
export function toTensor(d: TensorData): ops.Tensor {
  return ops.tensor(d.values, d.shape, d.dtype);
}

/** A Keras layer config: `{ class_name, config }`, as in a model's JSON. */
export interface LayerConfig {
  class_name: string;
  config: Record<string, unknown>;
}

const activations = fc.constantFrom('linear', 'relu', 'tanh', 'sigmoid', 'elu', 'softplus', 'selu', 'swish');

/** Configs of built-in layers that map [batch, features] to [batch, features'], by class name. */
const LAYER_CONFIGS: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  Dense: fc.record({ units: fc.integer({ min: 1, max: 8 }), activation: activations, use_bias: fc.boolean() }),
  Dropout: fc.record({ rate: fc.double({ min: 0, max: 0.9, noNaN: true }) }),
  Activation: fc.record({ activation: activations }),
  BatchNormalization: fc.record({ momentum: fc.double({ min: 0.5, max: 0.99, noNaN: true }), epsilon: fc.constantFrom(1e-3, 1e-5), center: fc.boolean(), scale: fc.boolean() }),
  LayerNormalization: fc.record({ epsilon: fc.constantFrom(1e-3, 1e-6), center: fc.boolean(), scale: fc.boolean() }),
  LeakyReLU: fc.record({ alpha: fc.double({ min: 0, max: 0.5, noNaN: true }) }),
  GaussianNoise: fc.record({ stddev: fc.double({ min: 0, max: 1, noNaN: true }) }),
};

/** The class names `layerConfigs` draws from. */
export const LAYER_CLASSES = Object.keys(LAYER_CONFIGS);

/** Configs of built-in layers for [batch, features] inputs (Dense, Dropout, BatchNormalization, ...), from `classes` (default all). */
export function layerConfigs(classes: readonly string[] = LAYER_CLASSES): fc.Arbitrary<LayerConfig> {
  return fc.constantFrom(...classes).chain((className) => {
    const config = LAYER_CONFIGS[className];
    if (!config) throw new Error(`layerConfigs: no arbitrary for '${className}'; known: ${LAYER_CLASSES.join(', ')}`);
    return config.map((c) => ({ class_name: className, config: c }));
  });
}

export interface ModelOptions {
  /** Features of the input (default 1..6). */
  inputDim?: fc.Arbitrary<number>;
  /** Hidden layers (default at most 4). */
  maxLayers?: number;
}

const named = (layer: LayerConfig, name: string): LayerConfig => ({ class_name: layer.class_name, config: { ...layer.config, name } });

/**
 * Small Sequential models, as Keras JSON configs (build one with
 * `modelFromConfig`): an input of `inputDim` features, hidden layers from
 * `layerConfigs()`, a Dense output layer.
 */
export function sequentialModels(o: ModelOptions = {}): fc.Arbitrary<LayerConfig> {
  return fc
    .tuple(o.inputDim ?? fc.integer({ min: 1, max: 6 }), fc.array(layerConfigs(), { maxLength: o.maxLayers ?? 4 }), LAYER_CONFIGS.Dense)
    .map(([inputDim, hidden, out]) => {
      const layers = [...hidden, { class_name: 'Dense', config: out }].map((l, i) => named(l, `layer_${i}`));
      layers[0] = { ...layers[0], config: { ...layers[0].config, batch_input_shape: [null, inputDim] } };
      return { class_name: 'Sequential', config: { name: 'sequential', layers } };
    });
}

/**
 * Small functional models, as Keras JSON configs: one input, two to three
 * branches of layers from `layerConfigs()` that each end in a Dense layer of
 * the same width, merged by Add or Concatenate, then a Dense output layer.
 */
export function functionalModels(o: ModelOptions = {}): fc.Arbitrary<LayerConfig> {
  const branch = fc.array(layerConfigs(), { maxLength: Math.max(0, (o.maxLayers ?? 4) - 2) });
  return fc
    .record({
      inputDim: o.inputDim ?? fc.integer({ min: 1, max: 6 }),
      branches: fc.array(branch, { minLength: 2, maxLength: 3 }),
      width: fc.integer({ min: 1, max: 6 }),
      merge: fc.constantFrom('Add', 'Concatenate'),
      out: LAYER_CONFIGS.Dense,
    })
    .map(({ inputDim, branches, width, merge, out }) => {
      const layers: Record<string, unknown>[] = [];
      const add = (layer: LayerConfig, name: string, inputs: string[]) =>
        layers.push({ ...named(layer, name), name, inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [] });
      add({ class_name: 'InputLayer', config: { batch_input_shape: [null, inputDim], dtype: 'float32' } }, 'input', []);
      const ends = branches.map((hidden, b) => {
        let last = 'input';
        [...hidden, { class_name: 'Dense', config: { units: width } }].forEach((l, i) => {
          add(l, `branch_${b}_${i}`, [last]);
          last = `branch_${b}_${i}`;
        });
        return last;
      });
      add({ class_name: merge, config: {} }, 'merge', ends);
      add({ class_name: 'Dense', config: out }, 'output', ['merge']);
      return { class_name: 'Functional', config: { name: 'functional', layers, input_layers: [['input', 0, 0]], output_layers: [['output', 0, 0]] } };
    });
}
