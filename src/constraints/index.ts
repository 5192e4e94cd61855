import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { Registry } from '../core/registry.js';
import { decodeConfig } from '../core/config.js';
import { UnknownNameError } from '../core/errors.js';

/** A Keras weight constraint: a projection applied after every optimizer update. */
export interface Constraint {
  readonly className: string;
  readonly config: Record<string, unknown>;
  apply(w: ops.Tensor): ops.Tensor;
}

export type ConstraintSpec = string | { class_name: string; config?: Record<string, unknown> };

const EPSILON = 1e-7; // Keras's backend.epsilon()
const axisCodec = t.union([t.number, t.array(t.number)]);
const codec = t.partial({ max_value: t.number, min_value: t.number, rate: t.number, axis: axisCodec });

const ALIASES: Record<string, string> = {
  max_norm: 'MaxNorm', maxnorm: 'MaxNorm', non_neg: 'NonNeg', nonneg: 'NonNeg',
  unit_norm: 'UnitNorm', unitnorm: 'UnitNorm', min_max_norm: 'MinMaxNorm',
};
const CLASSES = ['MaxNorm', 'NonNeg', 'UnitNorm', 'MinMaxNorm'];

/** Builds a custom constraint from its config; its `className` and `config` are what layer configs save. */
export type ConstraintFromConfig = (config: Record<string, unknown>) => Constraint;

export const customConstraints = new Registry<ConstraintFromConfig>({ register: 'registerConstraint', argument: 'fromConfig', expected: 'a function (config) => Constraint', nameArgument: 'className' });

/** Registers a custom constraint class: `{ class_name: className, config }` in a layer config builds it with `fromConfig(config)`. */
export function registerConstraint(className: string, fromConfig: ConstraintFromConfig): void {
  customConstraints.register(className, fromConfig);
}

export function getConstraint(spec: ConstraintSpec | null | undefined, where = 'constraint'): Constraint | null {
  if (spec === null || spec === undefined) return null;
  const raw = typeof spec === 'string' ? spec : spec.class_name;
  const custom = customConstraints.get(raw);
  if (custom) return custom(typeof spec === 'string' ? {} : (spec.config ?? {}));
  const className = CLASSES.includes(raw) ? raw : ALIASES[raw];
  if (!className)
    throw new UnknownNameError(
      'constraint',
      raw,
      [...CLASSES, ...Object.keys(ALIASES), ...customConstraints.names()],
      `Register a custom constraint with registerConstraint('${raw}', (config) => constraint)`,
    );
  const c = decodeConfig(codec, typeof spec === 'string' ? {} : (spec.config ?? {}), where);
  const axis = c.axis ?? 0;
  const norms = (w: ops.Tensor) => ops.sqrt(ops.sum(ops.square(w), axis, true));
  switch (className) {
    case 'NonNeg':
      return { className, config: {}, apply: (w) => ops.tidy(() => ops.mul(w, ops.cast(ops.greaterEqual(w, 0), 'float32'))) };
    case 'UnitNorm':
      return { className, config: { axis }, apply: (w) => ops.tidy(() => ops.div(w, ops.add(norms(w), EPSILON))) };
    case 'MaxNorm': {
      const maxValue = c.max_value ?? 2;
      return {
        className,
        config: { max_value: maxValue, axis },
        apply: (w) =>
          ops.tidy(() => {
            const n = norms(w);
            return ops.mul(w, ops.div(ops.clipByValue(n, 0, maxValue), ops.add(n, EPSILON)));
          }),
      };
    }
    default: {
      const minValue = c.min_value ?? 0;
      const maxValue = c.max_value ?? 1;
      const rate = c.rate ?? 1;
      return {
        className,
        config: { min_value: minValue, max_value: maxValue, rate, axis },
        apply: (w) =>
          ops.tidy(() => {
            const n = norms(w);
            const desired = ops.add(ops.mul(rate, ops.clipByValue(n, minValue, maxValue)), ops.mul(1 - rate, n));
            return ops.mul(w, ops.div(desired, ops.add(n, EPSILON)));
          }),
      };
    }
  }
}

export function serializeConstraint(c: Constraint | null): { class_name: string; config: Record<string, unknown> } | null {
  return c && { class_name: c.className, config: { ...c.config } };
}
