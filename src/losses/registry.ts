import { Registry } from '../core/registry.js';
import { UnknownNameError } from '../core/errors.js';
import type { LossConfig, LossFn, LossFunction } from './loss.js';
import { wrapLossFn } from './loss.js';
import { Huber, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError } from './regression.js';
import { CategoricalHinge, Hinge, SquaredHinge } from './hinge.js';
import { BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy } from './crossentropy.js';
import { KLDivergence, Poisson } from './probabilistic.js';
import { CosineSimilarity } from './cosine-similarity.js';

type LossClass = (config?: Partial<LossConfig>) => LossFunction;

/** Keras 2's loss classes by `class_name`. */
export const LOSS_CLASSES: Readonly<Record<string, LossClass>> = {
  MeanSquaredError,
  MeanAbsoluteError,
  MeanAbsolutePercentageError,
  MeanSquaredLogarithmicError,
  LogCosh,
  Huber,
  Hinge,
  SquaredHinge,
  CategoricalHinge,
  BinaryCrossentropy,
  CategoricalCrossentropy,
  SparseCategoricalCrossentropy,
  KLDivergence,
  Poisson,
  CosineSimilarity,
};

/**
 * Keras 2's loss function names and aliases (`keras.losses` module
 * functions), each with its class and the name Keras's
 * `LossFunctionWrapper` gets (the function's `__name__`).
 */
export const LOSS_FUNCTIONS: Readonly<Record<string, { className: string; name: string }>> = (() => {
  const table: Record<string, { className: string; name: string }> = {};
  const add = (className: string, name: string, aliases: string[] = []) => {
    for (const alias of [name, ...aliases]) table[alias] = { className, name };
  };
  add('MeanSquaredError', 'mean_squared_error', ['mse', 'MSE']);
  add('MeanAbsoluteError', 'mean_absolute_error', ['mae', 'MAE']);
  add('MeanAbsolutePercentageError', 'mean_absolute_percentage_error', ['mape', 'MAPE']);
  add('MeanSquaredLogarithmicError', 'mean_squared_logarithmic_error', ['msle', 'MSLE']);
  add('LogCosh', 'log_cosh', ['logcosh']);
  add('Huber', 'huber', ['huber_loss']);
  add('Hinge', 'hinge');
  add('SquaredHinge', 'squared_hinge');
  add('CategoricalHinge', 'categorical_hinge');
  add('BinaryCrossentropy', 'binary_crossentropy', ['bce', 'BCE']);
  add('CategoricalCrossentropy', 'categorical_crossentropy');
  add('SparseCategoricalCrossentropy', 'sparse_categorical_crossentropy');
  add('KLDivergence', 'kl_divergence', ['kld', 'KLD', 'kullback_leibler_divergence']);
  add('Poisson', 'poisson');
  add('CosineSimilarity', 'cosine_similarity');
  return table;
})();

/** Every name `getLoss` accepts as a string: function names, aliases and class names. */
export const LOSS_NAMES: readonly string[] = [...Object.keys(LOSS_FUNCTIONS), ...Object.keys(LOSS_CLASSES)];

/** A loss as Keras accepts one in `compile`: a name, a serialised `{class_name, config}`, a loss value or a function. */
export type LossSpec = string | { class_name: string; config?: Record<string, unknown> } | LossFunction | LossFn;

/**
 * Resolves a loss as `keras.losses.get` does: a function name or alias
 * (`'mse'`, `'kld'`, `'huber_loss'`: Keras's defaults, named after the
 * function), a class name (`'MeanSquaredError'`: its default config), a
 * serialised `{class_name, config}`, a `LossFunction` (returned as is) or a
 * plain function (wrapped). Throws UnknownNameError listing the known names.
 */
export function getLoss(spec: LossSpec): LossFunction {
  if (typeof spec === 'function') return wrapLossFn(spec, customLossName(spec));
  if (typeof spec === 'string') {
    const custom = customLoss(spec, {});
    if (custom) return custom;
    const fn = LOSS_FUNCTIONS[spec];
    if (fn) return LOSS_CLASSES[fn.className]({ name: fn.name });
    const cls = LOSS_CLASSES[spec];
    if (cls) return cls();
    throw unknownLoss('loss', spec, LOSS_NAMES);
  }
  if ('fn' in spec && typeof spec.fn === 'function') return spec;
  if ('class_name' in spec && typeof spec.class_name === 'string') {
    const config = (spec.config ?? {}) as Record<string, unknown>;
    const custom = customLoss(spec.class_name, config);
    if (custom) return custom;
    const cls = LOSS_CLASSES[spec.class_name];
    if (!cls) throw unknownLoss('loss class', spec.class_name, Object.keys(LOSS_CLASSES));
    return cls(config as Partial<LossConfig>);
  }
  throw unknownLoss('loss', String(spec), LOSS_NAMES);
}

// ---- custom losses (Keras's custom_objects) ----------------------------------

/** Builds a custom loss class from its config (`{ class_name, config }` in a training config). */
export type LossFromConfig = (config: Record<string, unknown>) => LossFunction;

export const customLosses = new Registry<LossFn>({ register: 'registerLoss', argument: 'fn', expected: 'a function (yTrue, yPred) => per-sample losses' });
export const customLossClasses = new Registry<LossFromConfig>({ register: 'registerLossClass', argument: 'fromConfig', expected: 'a function (config) => LossFunction', nameArgument: 'className' });

/**
 * Registers a custom loss function under `name` (Keras's `custom_objects`
 * for a function): `compile({ loss: name })`, or the function itself, saves
 * as `name` in the training config, and a file naming it compiles on load.
 */
export function registerLoss(name: string, fn: LossFn): void {
  customLosses.register(name, fn);
}

/**
 * Registers a custom loss class: a loss whose `className` is `className`
 * serialises as `{ class_name, config }` and is rebuilt on load by
 * `fromConfig(config)`.
 */
export function registerLossClass(className: string, fromConfig: LossFromConfig): void {
  customLossClasses.register(className, fromConfig);
}

/** The names of the registered custom losses (functions and classes), sorted. */
export function customLossNames(): string[] {
  return [...new Set([...customLosses.names(), ...customLossClasses.names()])].sort();
}

function customLossName(fn: LossFn): string | undefined {
  for (const [name, f] of customLosses.all()) if (f === fn) return name;
  return undefined;
}

/**
 * A registered loss for `name`: a class (built from `config`), a function,
 * or a function saved as Keras's `LossFunctionWrapper` (what `serializeLoss`
 * writes for a wrapped function: its `config.name` is the registered name).
 */
function customLoss(name: string, config: Record<string, unknown>): LossFunction | undefined {
  const cls = customLossClasses.get(name);
  if (cls) return cls(config);
  const fn = customLosses.get(name);
  if (fn) return wrapLossFn(fn, name);
  if (name === 'LossFunctionWrapper' && typeof config.name === 'string') {
    const wrapped = customLosses.get(config.name);
    if (wrapped) return wrapLossFn(wrapped, config.name);
  }
  return undefined;
}

function unknownLoss(kind: string, value: string, builtins: readonly string[]): UnknownNameError {
  const custom = customLossNames();
  return new UnknownNameError(
    kind,
    value,
    custom.length === 0 ? builtins : [...builtins, ...custom],
    `Register a custom loss with registerLoss('${value}', (yTrue, yPred) => losses) or registerLossClass('${value}', (config) => loss)`,
  );
}

/** The Keras serialisation of a loss: `{class_name, config}`. */
export function serializeLoss(loss: LossFunction): { class_name: string; config: LossConfig } {
  return { class_name: loss.className, config: { ...loss.config } };
}
