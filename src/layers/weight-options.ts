import * as t from 'io-ts';
import type * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { foldIn, type Key } from '../core/rng.js';
import { getInitializer, serializeInitializer, type Initializer } from '../initializers/index.js';
import { getRegularizer, serializeRegularizer, type Regularizer } from '../regularizers/index.js';
import { getConstraint, serializeConstraint, type Constraint } from '../constraints/index.js';
import { spec } from './common.js';
import { penalty } from './define-layer.js';
import type { Weights } from './layer.js';

/**
 * The options of a layer's named weights (`kernel`, `bias`, `depthwise`, ...):
 * Keras's `<name>_initializer`, `<name>_regularizer` and `<name>_constraint`
 * config fields, decoded once, with the layer's penalty and projection over them.
 */
/** Config fields `<name>_initializer`, `<name>_regularizer`, `<name>_constraint` of each named weight. */
export function weightFields<N extends string>(names: readonly N[]) {
  const props: Record<string, t.Mixed> = {};
  for (const n of names) {
    props[`${n}_initializer`] = spec;
    props[`${n}_regularizer`] = nullable(spec);
    props[`${n}_constraint`] = nullable(spec);
  }
  return t.partial(props);
}

/** The decoded options of one weight. */
export interface WeightOptions {
  init: Initializer;
  reg: Regularizer | null;
  constraint: Constraint | null;
}

type SpecValue = Parameters<typeof getInitializer>[0];

/**
 * Decodes the options of each named weight from a config (initializer
 * defaults given per weight) and returns them with their serialised config
 * fields, in Keras's form.
 */
export function weightOptions<N extends string>(
  c: Record<string, unknown>,
  defaults: Record<N, string>,
  where: string,
): { options: Record<N, WeightOptions>; fields: Record<string, unknown> } {
  const options = {} as Record<N, WeightOptions>;
  const fields: Record<string, unknown> = {};
  for (const n of Object.keys(defaults) as N[]) {
    const init = getInitializer((c[`${n}_initializer`] as SpecValue | undefined) ?? defaults[n], `${where}.${n}_initializer`);
    const reg = getRegularizer(c[`${n}_regularizer`] as SpecValue | null | undefined, `${where}.${n}_regularizer`);
    const constraint = getConstraint(c[`${n}_constraint`] as SpecValue | null | undefined, `${where}.${n}_constraint`);
    options[n] = { init, reg, constraint };
    fields[`${n}_initializer`] = serializeInitializer(init);
    fields[`${n}_regularizer`] = serializeRegularizer(reg);
    fields[`${n}_constraint`] = serializeConstraint(constraint);
  }
  return { options, fields };
}

/** Creates a weight with its initializer under a key folded with its name. */
export function initWeight(o: WeightOptions, key: Key, name: string, shape: number[]): ops.Tensor {
  return o.init.init(foldIn(key, name), shape);
}

/** The layer's `regularization` over its weights' regularizers (null when none). */
export function weightPenalty(options: Record<string, WeightOptions>, p: Weights): ops.Scalar | null {
  return penalty(Object.entries(options).map(([n, o]): [Regularizer | null, ops.Tensor | undefined] => [o.reg, p[n]]));
}

/** The layer's `constrain` over its weights' constraints (undefined when none). */
export function weightConstrain(options: Record<string, WeightOptions>): ((p: Weights) => Weights) | undefined {
  const withConstraint = Object.entries(options).filter(([, o]) => o.constraint !== null);
  if (withConstraint.length === 0) return undefined;
  return (p) => {
    const out = { ...p };
    for (const [n, o] of withConstraint) if (out[n]) out[n] = (o.constraint as Constraint).apply(out[n]);
    return out;
  };
}

/**
 * The three weight hooks of a layer with named weights: their penalty, the
 * activity penalty of its outputs (when it has an activity_regularizer) and
 * the projection onto their constraints.
 */
export function weightHooks(options: Record<string, WeightOptions>, activityReg: Regularizer | null) {
  return {
    regularization: (p: Weights) => weightPenalty(options, p),
    activityRegularization: activityReg ? (y: ops.Tensor | ops.Tensor[]) => activityReg.loss(y as ops.Tensor) : undefined,
    constrain: weightConstrain(options),
  };
}
