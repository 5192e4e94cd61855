import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { Registry } from '../core/registry.js';
import { decodeConfig } from '../core/config.js';
import { UnknownNameError } from '../core/errors.js';

/** A Keras weight or activity regularizer: a penalty added to the loss in training only. */
export interface Regularizer {
  readonly className: string;
  readonly config: { l1?: number; l2?: number };
  loss(x: ops.Tensor): ops.Scalar;
}

export type RegularizerSpec = string | { class_name: string; config?: Record<string, unknown> };

const codec = t.partial({ l1: t.number, l2: t.number });

/** Keras's defaults: the string forms and the `L1`/`L2` classes use 0.01; `L1L2` uses 0. */
const CLASSES: Record<string, (c: { l1?: number; l2?: number }) => { l1: number; l2: number; className: string }> = {
  L1L2: (c) => ({ className: 'L1L2', l1: c.l1 ?? 0, l2: c.l2 ?? 0 }),
  L1: (c) => ({ className: 'L1', l1: c.l1 ?? 0.01, l2: 0 }),
  L2: (c) => ({ className: 'L2', l1: 0, l2: c.l2 ?? 0.01 }),
  l1: () => ({ className: 'L1', l1: 0.01, l2: 0 }),
  l2: () => ({ className: 'L2', l1: 0, l2: 0.01 }),
  l1_l2: () => ({ className: 'L1L2', l1: 0.01, l2: 0.01 }),
};

export function getRegularizer(spec: RegularizerSpec | null | undefined, where = 'regularizer'): Regularizer | null {
  if (spec === null || spec === undefined) return null;
  const name = typeof spec === 'string' ? spec : spec.class_name;
  const custom = customRegularizers.get(name);
  if (custom) return custom(typeof spec === 'string' ? {} : (spec.config ?? {}));
  const make = CLASSES[name];
  if (!make)
    throw new UnknownNameError(
      'regularizer',
      name,
      [...Object.keys(CLASSES), ...customRegularizers.names()],
      `Register a custom regularizer with registerRegularizer('${name}', (config) => regularizer)`,
    );
  const c = decodeConfig(codec, typeof spec === 'string' ? {} : (spec.config ?? {}), where);
  const { className, l1, l2 } = make(c);
  return regularizer(className, l1, l2);
}

/** Builds a custom regularizer from its config; its `className` and `config` are what layer configs save. */
export type RegularizerFromConfig = (config: Record<string, unknown>) => Regularizer;

export const customRegularizers = new Registry<RegularizerFromConfig>({ register: 'registerRegularizer', argument: 'fromConfig', expected: 'a function (config) => Regularizer', nameArgument: 'className' });

/** Registers a custom regularizer class: `{ class_name: className, config }` in a layer config builds it with `fromConfig(config)`. */
export function registerRegularizer(className: string, fromConfig: RegularizerFromConfig): void {
  customRegularizers.register(className, fromConfig);
}

export function l1l2(l1 = 0, l2 = 0): Regularizer {
  return regularizer('L1L2', l1, l2);
}

function regularizer(className: string, l1: number, l2: number): Regularizer {
  const config = className === 'L1' ? { l1 } : className === 'L2' ? { l2 } : { l1, l2 };
  return {
    className,
    config,
    loss: (x) =>
      ops.tidy(() => {
        let total: ops.Tensor = ops.scalar(0);
        if (l1) total = ops.add(total, ops.mul(l1, ops.sum(ops.abs(x))));
        if (l2) total = ops.add(total, ops.mul(l2, ops.sum(ops.square(x))));
        return total as ops.Scalar;
      }),
  };
}

export function serializeRegularizer(r: Regularizer | null): { class_name: string; config: Record<string, unknown> } | null {
  return r && { class_name: r.className, config: { ...r.config } };
}
