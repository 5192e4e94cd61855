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
  if (typeof spec === 'function') return wrapLossFn(spec);
  if (typeof spec === 'string') {
    const fn = LOSS_FUNCTIONS[spec];
    if (fn) return LOSS_CLASSES[fn.className]({ name: fn.name });
    const cls = LOSS_CLASSES[spec];
    if (cls) return cls();
    throw new UnknownNameError('loss', spec, LOSS_NAMES);
  }
  if ('fn' in spec && typeof spec.fn === 'function') return spec;
  if ('class_name' in spec && typeof spec.class_name === 'string') {
    const cls = LOSS_CLASSES[spec.class_name];
    if (!cls) throw new UnknownNameError('loss class', spec.class_name, Object.keys(LOSS_CLASSES));
    return cls((spec.config ?? {}) as Partial<LossConfig>);
  }
  throw new UnknownNameError('loss', String(spec), LOSS_NAMES);
}

/** The Keras serialisation of a loss: `{class_name, config}`. */
export function serializeLoss(loss: LossFunction): { class_name: string; config: LossConfig } {
  return { class_name: loss.className, config: { ...loss.config } };
}
