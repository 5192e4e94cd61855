import { describe, InvalidArgumentError, UnknownNameError } from '../core/errors.js';
import { Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop, SGD, type Optimizer } from './keras.js';
import type { OptimizerState } from './keras-weights.js';

/** Keras's serialisation of an optimizer, as in `training_config.optimizer_config`. */
export interface OptimizerSpec {
  class_name: string;
  config?: Record<string, unknown>;
}

/** The Keras 2 optimizers by class name. */
const OPTIMIZERS: Record<string, (config: Record<string, unknown>) => Optimizer> = {
  SGD,
  RMSprop,
  Adam,
  Adagrad,
  Adadelta,
  Adamax,
  Nadam,
};

/** Class names and the lower-case aliases that `getOptimizer` accepts ('adam', 'sgd', 'rmsprop', ...). */
export const optimizerNames: readonly string[] = [...Object.keys(OPTIMIZERS), ...Object.keys(OPTIMIZERS).map((k) => k.toLowerCase())];

function lookup(name: string): ((config: Record<string, unknown>) => Optimizer) | undefined {
  // Keras matches case-insensitively ('adam', 'Adam', 'RMSProp'); newer files may prefix a module ('keras.optimizers.legacy.Adam').
  const bare = name.replace(/^.*[>.]/, '').toLowerCase();
  const key = Object.keys(OPTIMIZERS).find((k) => k.toLowerCase() === bare);
  return key ? OPTIMIZERS[key] : undefined;
}

export function isOptimizer(x: unknown): x is Optimizer {
  return (
    typeof x === 'object' && x !== null && typeof (x as Optimizer).className === 'string' && typeof (x as Optimizer).init === 'function' && typeof (x as Optimizer).update === 'function'
  );
}

/**
 * An optimizer from a Keras name ('adam', 'SGD', ...; Keras's defaults), a
 * Keras serialisation `{ class_name, config }`, or an optimizer (returned as is).
 */
export function getOptimizer(spec: string | OptimizerSpec | Optimizer): Optimizer {
  if (isOptimizer(spec)) return spec;
  if (typeof spec === 'string') {
    const make = lookup(spec);
    if (!make) throw new UnknownNameError('optimizer', spec, optimizerNames);
    return make({});
  }
  if (typeof spec === 'object' && spec !== null && typeof spec.class_name === 'string') {
    const make = lookup(spec.class_name);
    if (!make) throw new UnknownNameError('optimizer', spec.class_name, optimizerNames);
    return make({ ...(spec.config ?? {}) });
  }
  throw new InvalidArgumentError('optimizer', "a name ('adam'), { class_name, config } or an optimizer value (Adam({ ... }))", describe(spec));
}

/** `{ class_name, config }` as Keras writes it (with a state, the current hyper-parameters). */
export function serializeOptimizer(optimizer: Optimizer, state?: OptimizerState): { class_name: string; config: Record<string, unknown> } {
  return { class_name: optimizer.className, config: optimizer.getConfig(state) };
}
