import { Registry } from '../core/registry.js';
import { ConfigDecodeError, UnknownNameError } from '../core/errors.js';
import { cosineSimilarityValue, customLossNames, getLoss, LOSS_FUNCTIONS, type LossFunction, type LossSpec } from '../losses/index.js';
import type { Metric, MetricFn } from './metric.js';
import { meanMetricWrapper } from './metric.js';
import {
  Accuracy,
  BinaryAccuracy,
  CategoricalAccuracy,
  SparseCategoricalAccuracy,
  SparseTopKCategoricalAccuracy,
  TopKCategoricalAccuracy,
  accuracy,
  binaryAccuracy,
  categoricalAccuracy,
  sparseCategoricalAccuracy,
  sparseTopKCategoricalAccuracy,
  topKCategoricalAccuracy,
} from './accuracy.js';
import {
  CategoricalHinge,
  CosineSimilarity,
  Hinge,
  KLDivergence,
  LogCoshError,
  MeanAbsoluteError,
  MeanAbsolutePercentageError,
  MeanSquaredError,
  MeanSquaredLogarithmicError,
  Poisson,
  RootMeanSquaredError,
  SquaredHinge,
} from './regression.js';
import { BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy } from './crossentropy.js';

type MetricClass = (config?: Record<string, unknown>) => Metric;

/** Keras 2's metric classes by `class_name`. */
export const METRIC_CLASSES: Readonly<Record<string, MetricClass>> = {
  Accuracy,
  BinaryAccuracy,
  CategoricalAccuracy,
  SparseCategoricalAccuracy,
  TopKCategoricalAccuracy,
  SparseTopKCategoricalAccuracy,
  MeanSquaredError,
  MeanAbsoluteError,
  MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError,
  RootMeanSquaredError,
  CosineSimilarity,
  Hinge,
  SquaredHinge,
  CategoricalHinge,
  LogCoshError,
  Poisson,
  KLDivergence,
  BinaryCrossentropy,
  CategoricalCrossentropy,
  SparseCategoricalCrossentropy,
} as Record<string, MetricClass>;

/**
 * Keras 2's metric functions (`keras.metrics` module functions and aliases)
 * that are not loss functions; loss function names (`'mse'`, `'kld'`,
 * `'binary_crossentropy'`, ...) are metrics too: the mean of the loss.
 */
const METRIC_FUNCTIONS: Readonly<Record<string, MetricFn>> = {
  accuracy,
  acc: accuracy,
  binary_accuracy: binaryAccuracy(),
  categorical_accuracy: categoricalAccuracy,
  sparse_categorical_accuracy: sparseCategoricalAccuracy,
  top_k_categorical_accuracy: topKCategoricalAccuracy(),
  sparse_top_k_categorical_accuracy: sparseTopKCategoricalAccuracy(),
  cosine_similarity: cosineSimilarityValue(),
  cosine_proximity: cosineSimilarityValue(),
};

/** Keras's metric functions that take keyword arguments, by the class whose config holds the same arguments. */
const FUNCTIONS_WITH_ARGUMENTS: Readonly<Record<string, MetricClass>> = {
  binary_accuracy: BinaryAccuracy,
  top_k_categorical_accuracy: TopKCategoricalAccuracy,
  sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
  cosine_similarity: CosineSimilarity,
  cosine_proximity: CosineSimilarity,
};

/** Every string `getMetric` accepts. */
export const METRIC_NAMES: readonly string[] = [
  ...new Set([...Object.keys(METRIC_FUNCTIONS), ...Object.keys(LOSS_FUNCTIONS), ...Object.keys(METRIC_CLASSES), 'crossentropy', 'ce']),
];

/** A metric as Keras accepts one in `compile`: a name, a serialised `{class_name, config}`, a metric or loss value, or a function. */
export type MetricSpec = string | { class_name: string; config?: Record<string, unknown> } | Metric | LossFunction | MetricFn;

function isMetric(spec: object): spec is Metric {
  return 'init' in spec && 'update' in spec && 'result' in spec;
}

/**
 * Resolves a metric as `keras.metrics.get` does, without the compile-time
 * meaning of `'accuracy'` (see `resolveMetric`): a function name or alias
 * (named as written: `'mse'` logs as `mse`), any loss name (the mean of the
 * loss), a class name or serialised `{class_name, config}`, a `Metric`
 * (returned as is), a `LossFunction` or a plain function (averaged, named
 * after it). Throws UnknownNameError listing the known names.
 */
export function getMetric(spec: MetricSpec): Metric {
  if (typeof spec === 'function') return meanMetricWrapper(customMetricName(spec) ?? (spec.name || 'metric'), spec);
  if (typeof spec === 'string') {
    const custom = customMetric(spec, {});
    if (custom) return custom;
    const fn = METRIC_FUNCTIONS[spec];
    if (fn) return meanMetricWrapper(spec, fn);
    if (spec in LOSS_FUNCTIONS || customLossNames().includes(spec)) return meanMetricWrapper(spec, getLoss(spec).fn);
    const cls = METRIC_CLASSES[spec];
    if (cls) return cls();
    throw unknownMetric('metric', spec, METRIC_NAMES);
  }
  if (isMetric(spec)) return spec;
  if ('fn' in spec && typeof spec.fn === 'function') return meanMetricWrapper(spec.name, spec.fn);
  if ('class_name' in spec && typeof spec.class_name === 'string') {
    const custom = customMetric(spec.class_name, spec.config ?? {});
    if (custom) return custom;
    if (spec.class_name === 'MeanMetricWrapper') return meanMetricWrapperFromConfig(spec.config ?? {});
    const cls = METRIC_CLASSES[spec.class_name];
    if (!cls) throw unknownMetric('metric class', spec.class_name, [...Object.keys(METRIC_CLASSES), 'MeanMetricWrapper']);
    return cls(spec.config ?? {});
  }
  throw unknownMetric('metric', String(spec), METRIC_NAMES);
}

/**
 * Keras's `MeanMetricWrapper.from_config`, as tf.keras 2.4 saves the metrics
 * that `compile` built: `fn` names a metric or loss function (`'accuracy'`
 * here is element-wise equality, as `metrics.get` finds it), `name` is the
 * log name, and every other key but `dtype` is a keyword argument of `fn`.
 */
function meanMetricWrapperFromConfig(config: Record<string, unknown>): Metric {
  const { fn, name, dtype: _dtype, ...kwargs } = config;
  const where = 'MeanMetricWrapper config';
  if (typeof fn !== 'string') throw new ConfigDecodeError('fn', 'the name of a metric or loss function', fn, where);
  if (name !== undefined && typeof name !== 'string') throw new ConfigDecodeError('name', 'a string', name, where);
  const logName = name ?? 'mean_metric_wrapper';
  return meanMetricWrapper(logName, wrappedFunction(fn, kwargs, where), 'MeanMetricWrapper', { name: logName, dtype: 'float32', fn, ...kwargs });
}

/** The function `fn` names, given its keyword arguments (Keras's `metrics.get(fn)` called with `**kwargs`). */
function wrappedFunction(fn: string, kwargs: Record<string, unknown>, where: string): MetricFn {
  const custom = customMetrics.get(fn);
  const withArguments = FUNCTIONS_WITH_ARGUMENTS[fn];
  if (!custom && withArguments) return withArguments(kwargs).fn;
  if (!custom && fn in LOSS_FUNCTIONS) return getLoss({ class_name: LOSS_FUNCTIONS[fn].className, config: kwargs }).fn;
  const extra = Object.keys(kwargs);
  if (extra.length > 0) throw new ConfigDecodeError(extra[0], `no keyword arguments ('${fn}' takes none)`, kwargs[extra[0]], where);
  if (custom) return custom;
  if (METRIC_FUNCTIONS[fn]) return METRIC_FUNCTIONS[fn];
  if (customLossNames().includes(fn)) return getLoss(fn).fn;
  throw unknownMetric('metric function', fn, [...Object.keys(METRIC_FUNCTIONS), ...Object.keys(LOSS_FUNCTIONS)]);
}

// ---- custom metrics (Keras's custom_objects) ---------------------------------

/** Builds a custom metric class from its config (`{ class_name, config }` in a training config). */
export type MetricFromConfig = (config: Record<string, unknown>) => Metric;

export const customMetrics = new Registry<MetricFn>({ register: 'registerMetric', argument: 'fn', expected: 'a function (yTrue, yPred) => per-sample values' });
export const customMetricClasses = new Registry<MetricFromConfig>({ register: 'registerMetricClass', argument: 'fromConfig', expected: 'a function (config) => Metric', nameArgument: 'className' });

/**
 * Registers a custom metric function under `name` (Keras's `custom_objects`):
 * `compile({ metrics: [name] })`, or the function itself, logs and saves as
 * `name`, and a training config naming it resolves on load. Registered
 * losses are metrics by their names too, as in Keras.
 */
export function registerMetric(name: string, fn: MetricFn): void {
  customMetrics.register(name, fn);
}

/** Registers a custom metric class: `{ class_name: className, config }` is rebuilt by `fromConfig(config)`. */
export function registerMetricClass(className: string, fromConfig: MetricFromConfig): void {
  customMetricClasses.register(className, fromConfig);
}

/** The names of the registered custom metrics (functions and classes), sorted. */
export function customMetricNames(): string[] {
  return [...new Set([...customMetrics.names(), ...customMetricClasses.names()])].sort();
}

function customMetricName(fn: MetricFn): string | undefined {
  for (const [name, f] of customMetrics.all()) if (f === fn) return name;
  return undefined;
}

function customMetric(name: string, config: Record<string, unknown>): Metric | undefined {
  const cls = customMetricClasses.get(name);
  if (cls) return cls(config);
  const fn = customMetrics.get(name);
  return fn ? meanMetricWrapper(name, fn) : undefined;
}

function unknownMetric(kind: string, value: string, builtins: readonly string[]): UnknownNameError {
  const custom = [...customMetricNames(), ...customLossNames()];
  return new UnknownNameError(
    kind,
    value,
    custom.length === 0 ? builtins : [...builtins, ...custom],
    `Register a custom metric with registerMetric('${value}', (yTrue, yPred) => values) or registerMetricClass('${value}', (config) => metric)`,
  );
}

/** Target and prediction shapes of one output (batch dimension included, null where unknown). */
export interface OutputShapes {
  yTrue?: readonly (number | null)[] | null;
  yPred?: readonly (number | null)[] | null;
}

export type TargetKind = 'binary' | 'sparse_categorical' | 'categorical';

/**
 * Which kind of target `'accuracy'` / `'crossentropy'` mean for a loss and
 * output, as Keras 2 decides it: binary when the loss is binary
 * crossentropy or the prediction's last dimension is 1; sparse categorical
 * when the loss is sparse categorical crossentropy, or (tf.keras 2's shape
 * rule, for other losses) when the target has a lower rank than the
 * prediction or a last dimension of 1 against a wider prediction;
 * categorical otherwise.
 */
export function targetKind(loss?: LossSpec | null, shapes: OutputShapes = {}): TargetKind {
  const lossClass = loss === undefined || loss === null ? undefined : getLoss(loss).className;
  const pred = shapes.yPred ?? undefined;
  const target = shapes.yTrue ?? undefined;
  const predLast = pred && pred.length > 0 ? pred[pred.length - 1] : undefined;
  const targetLast = target && target.length > 0 ? target[target.length - 1] : undefined;
  if (lossClass === 'BinaryCrossentropy' || predLast === 1) return 'binary';
  if (lossClass === 'SparseCategoricalCrossentropy') return 'sparse_categorical';
  if (pred && target && (target.length < pred.length || (targetLast === 1 && predLast !== undefined && predLast !== null && predLast > 1)))
    return 'sparse_categorical';
  return 'categorical';
}

const ACCURACY: Record<TargetKind, MetricFn> = {
  binary: binaryAccuracy(),
  sparse_categorical: sparseCategoricalAccuracy,
  categorical: categoricalAccuracy,
};
const CROSSENTROPY: Record<TargetKind, string> = {
  binary: 'binary_crossentropy',
  sparse_categorical: 'sparse_categorical_crossentropy',
  categorical: 'categorical_crossentropy',
};

/**
 * Resolves a metric given to `compile`: `'accuracy'` / `'acc'` become binary,
 * sparse categorical or categorical accuracy and `'crossentropy'` / `'ce'`
 * the matching crossentropy (Keras's defaults), as chosen by `targetKind`
 * from the loss and the output shapes; the log name stays the string the
 * user wrote. Anything else resolves as `getMetric`.
 */
export function resolveMetric(spec: MetricSpec, loss?: LossSpec | null, shapes: OutputShapes = {}): Metric {
  if (spec === 'accuracy' || spec === 'acc') return meanMetricWrapper(spec, ACCURACY[targetKind(loss, shapes)]);
  if (spec === 'crossentropy' || spec === 'ce') return meanMetricWrapper(spec, getLoss(CROSSENTROPY[targetKind(loss, shapes)]).fn);
  return getMetric(spec);
}
