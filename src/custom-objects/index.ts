/**
 * Custom objects, as Keras's `custom_objects`: user layers, Lambda
 * functions, losses, metrics, activations, initializers, regularizers and
 * constraints registered by name, so that configs naming them load, and
 * what rxkeras saves names them so that they load again. Each kind has its
 * own `register*` function next to its built-in table; `registerCustomObjects`
 * registers a whole set at once (what `rxkeras --custom-objects MODULE` does
 * with the module's `customObjects` export). Nothing registers itself on import.
 */
import { InvalidArgumentError, describe } from '../core/errors.js';
import { withScope, type Registry } from '../core/registry.js';
import { customActivations, type ActivationFn } from '../activations/index.js';
import { customConstraints, type ConstraintFromConfig } from '../constraints/index.js';
import { customInitializers, type InitializerFromConfig } from '../initializers/index.js';
import { customLambdas, type LambdaFunction, type LambdaOptions } from '../layers/lambda.js';
import { customLayers, type LayerFromConfig } from '../layers/registry.js';
import { customLossClasses, customLosses, type LossFromConfig } from '../losses/registry.js';
import type { LossFn } from '../losses/loss.js';
import { customMetricClasses, customMetrics, type MetricFromConfig } from '../metrics/registry.js';
import type { MetricFn } from '../metrics/metric.js';
import { customRegularizers, type RegularizerFromConfig } from '../regularizers/index.js';

/** A set of custom objects, by the names configs use. Every field is optional. */
export interface CustomObjects {
  /** Layer classes: `class_name` to a factory from the layer's config. */
  layers?: Record<string, LayerFromConfig>;
  /** Functions for `Lambda` layers: by function name, or by a Lambda layer's name to replace Keras's Python code. */
  lambdas?: Record<string, LambdaFunction | { fn: LambdaFunction; options?: LambdaOptions }>;
  /** Loss functions `(yTrue, yPred) => per-sample losses`, by the name a training config holds. */
  losses?: Record<string, LossFn>;
  /** Loss classes: `class_name` to a factory from the config. */
  lossClasses?: Record<string, LossFromConfig>;
  /** Metric functions `(yTrue, yPred) => per-sample values`, by name. */
  metrics?: Record<string, MetricFn>;
  /** Metric classes: `class_name` to a factory from the config. */
  metricClasses?: Record<string, MetricFromConfig>;
  /** Activation functions, by the name a layer config holds. */
  activations?: Record<string, ActivationFn>;
  /** Initializer classes: `class_name` to a factory from the config. */
  initializers?: Record<string, InitializerFromConfig>;
  /** Regularizer classes: `class_name` to a factory from the config. */
  regularizers?: Record<string, RegularizerFromConfig>;
  /** Constraint classes: `class_name` to a factory from the config. */
  constraints?: Record<string, ConstraintFromConfig>;
}

const KINDS = [
  'layers',
  'lambdas',
  'losses',
  'lossClasses',
  'metrics',
  'metricClasses',
  'activations',
  'initializers',
  'regularizers',
  'constraints',
] as const satisfies readonly (keyof CustomObjects)[];

/**
 * Checks that `value` is a CustomObjects set: an object whose keys are the
 * known kinds, each a record of functions (or `{ fn, options }` for lambdas).
 * Throws InvalidArgumentError naming the bad entry.
 */
export function checkCustomObjects(value: unknown, where = 'customObjects'): asserts value is CustomObjects {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidArgumentError(where, `an object with any of ${KINDS.join(', ')}`, value);
  for (const [kind, entries] of Object.entries(value)) {
    if (!(KINDS as readonly string[]).includes(kind)) throw new InvalidArgumentError(`${where}.${kind}`, `one of the kinds ${KINDS.join(', ')}`, kind);
    if (entries === undefined) continue;
    if (typeof entries !== 'object' || entries === null || Array.isArray(entries))
      throw new InvalidArgumentError(`${where}.${kind}`, 'an object from names to functions', entries);
    for (const [name, entry] of Object.entries(entries as Record<string, unknown>)) {
      const ok =
        typeof entry === 'function' ||
        (kind === 'lambdas' && typeof entry === 'object' && entry !== null && typeof (entry as { fn?: unknown }).fn === 'function');
      if (!ok) throw new InvalidArgumentError(`${where}.${kind}.${name}`, kind === 'lambdas' ? 'a function or { fn, options }' : 'a function', describeEntry(entry));
    }
  }
}

function describeEntry(entry: unknown): string {
  return typeof entry === 'object' && entry !== null ? describe(entry) : `${typeof entry} ${describe(entry)}`;
}

/** The registry of each kind. */
const REGISTRIES: Record<(typeof KINDS)[number], Registry<any>> = {
  layers: customLayers,
  lambdas: customLambdas,
  losses: customLosses,
  lossClasses: customLossClasses,
  metrics: customMetrics,
  metricClasses: customMetricClasses,
  activations: customActivations,
  initializers: customInitializers,
  regularizers: customRegularizers,
  constraints: customConstraints,
};

/** The set's entries per registry (lambdas as `{ fn, options }`). */
function entriesOf(objects: CustomObjects): [Registry<any>, Record<string, unknown>][] {
  return KINDS.filter((kind) => objects[kind] !== undefined).map((kind) => {
    const record = objects[kind] as Record<string, unknown>;
    if (kind !== 'lambdas') return [REGISTRIES[kind], record];
    const lambdas = Object.entries(record).map(([name, l]) => [name, typeof l === 'function' ? { fn: l, options: {} } : l]);
    return [REGISTRIES[kind], Object.fromEntries(lambdas)];
  });
}

/**
 * Registers every object of the set under its name (adding to, or replacing,
 * what the registries hold), after checking the whole set first: a bad
 * entry registers nothing.
 */
export function registerCustomObjects(objects: CustomObjects, where = 'customObjects'): void {
  checkCustomObjects(objects, where);
  for (const [registry, record] of entriesOf(objects)) for (const [name, value] of Object.entries(record)) registry.register(name, value);
}

/**
 * Keras's `custom_object_scope`: runs `f` with the set's objects registered
 * for the duration of the call only (for an async `f`, until its promise
 * settles), over what is registered globally. Scopes nest; concurrent
 * calls do not see each other's objects. Loading inside it:
 * `await withCustomObjects({ layers: { MyLayer } }, () => rx.loadModel('m.h5'))`.
 */
export function withCustomObjects<R>(objects: CustomObjects, f: () => R, where = 'customObjects'): R {
  checkCustomObjects(objects, where);
  return withScope(entriesOf(objects), f);
}
