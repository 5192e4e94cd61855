import * as t from 'io-ts';
import { decodeConfig, nullable } from '../core/config.js';
import { ConfigDecodeError, UnknownNameError } from '../core/errors.js';

/**
 * A learning-rate schedule: the learning rate as a function of the optimizer
 * step (Keras's `iterations` before the update, so the first step sees 0).
 * Keras's schedules are values with `className` and `getConfig()`; any plain
 * `(step) => number` function also works as a schedule but cannot be saved.
 */
export type Schedule = (step: number) => number;

export interface LearningRateSchedule extends Schedule {
  readonly className: string;
  getConfig(): Record<string, unknown>;
}

export interface ScheduleSpec {
  class_name: string;
  config?: Record<string, unknown>;
}

function define<C extends Record<string, unknown>>(className: string, config: C, f: Schedule): LearningRateSchedule {
  return Object.assign((step: number) => f(step), { className, getConfig: () => ({ ...config }) });
}

const where = (name: string) => `${name} config`;
const positive = (name: string, field: string, v: number) => {
  if (!(v > 0)) throw new ConfigDecodeError(field, 'a positive number', v, where(name));
  return v;
};

const expCodec = t.intersection([
  t.type({ initial_learning_rate: t.number, decay_steps: t.number, decay_rate: t.number }),
  t.partial({ staircase: t.boolean, name: nullable(t.string) }),
]);
export type ExponentialDecayArgs = t.TypeOf<typeof expCodec>;

/** `initial_learning_rate * decay_rate ^ (step / decay_steps)` (the exponent floored with `staircase`). */
export function ExponentialDecay(args: ExponentialDecayArgs): LearningRateSchedule {
  const c = decodeConfig(expCodec, args, where('ExponentialDecay'));
  positive('ExponentialDecay', 'decay_steps', c.decay_steps);
  const config = { initial_learning_rate: c.initial_learning_rate, decay_steps: c.decay_steps, decay_rate: c.decay_rate, staircase: c.staircase ?? false, name: c.name ?? null };
  return define('ExponentialDecay', config, (step) => {
    const p = step / config.decay_steps;
    return config.initial_learning_rate * config.decay_rate ** (config.staircase ? Math.floor(p) : p);
  });
}

const pieceCodec = t.intersection([t.type({ boundaries: t.array(t.number), values: t.array(t.number) }), t.partial({ name: nullable(t.string) })]);
export type PiecewiseConstantDecayArgs = t.TypeOf<typeof pieceCodec>;

/** `values[0]` while `step <= boundaries[0]`, `values[i]` while `boundaries[i-1] < step <= boundaries[i]`, then `values[n]`. */
export function PiecewiseConstantDecay(args: PiecewiseConstantDecayArgs): LearningRateSchedule {
  const c = decodeConfig(pieceCodec, args, where('PiecewiseConstantDecay'));
  if (c.boundaries.length !== c.values.length - 1)
    throw new ConfigDecodeError('values', `one more value than boundaries (${c.boundaries.length + 1})`, c.values, where('PiecewiseConstantDecay'));
  const config = { boundaries: [...c.boundaries], values: [...c.values], name: c.name ?? null };
  return define('PiecewiseConstantDecay', config, (step) => {
    const i = config.boundaries.findIndex((b) => step <= b);
    return config.values[i === -1 ? config.values.length - 1 : i];
  });
}

const polyCodec = t.intersection([
  t.type({ initial_learning_rate: t.number, decay_steps: t.number }),
  t.partial({ end_learning_rate: t.number, power: t.number, cycle: t.boolean, name: nullable(t.string) }),
]);
export type PolynomialDecayArgs = t.TypeOf<typeof polyCodec>;

/**
 * `(initial - end) * (1 - min(step, decay_steps) / decay_steps) ^ power + end`;
 * with `cycle`, `decay_steps` grows to the first multiple above `step`.
 */
export function PolynomialDecay(args: PolynomialDecayArgs): LearningRateSchedule {
  const c = decodeConfig(polyCodec, args, where('PolynomialDecay'));
  positive('PolynomialDecay', 'decay_steps', c.decay_steps);
  const config = {
    initial_learning_rate: c.initial_learning_rate,
    decay_steps: c.decay_steps,
    end_learning_rate: c.end_learning_rate ?? 0.0001,
    power: c.power ?? 1.0,
    cycle: c.cycle ?? false,
    name: c.name ?? null,
  };
  return define('PolynomialDecay', config, (step) => {
    let s = step;
    let steps = config.decay_steps;
    if (config.cycle) steps *= s === 0 ? 1 : Math.ceil(s / config.decay_steps);
    else s = Math.min(s, steps);
    return (config.initial_learning_rate - config.end_learning_rate) * (1 - s / steps) ** config.power + config.end_learning_rate;
  });
}

export type InverseTimeDecayArgs = ExponentialDecayArgs;

/** `initial_learning_rate / (1 + decay_rate * step / decay_steps)` (the ratio floored with `staircase`). */
export function InverseTimeDecay(args: InverseTimeDecayArgs): LearningRateSchedule {
  const c = decodeConfig(expCodec, args, where('InverseTimeDecay'));
  positive('InverseTimeDecay', 'decay_steps', c.decay_steps);
  const config = { initial_learning_rate: c.initial_learning_rate, decay_steps: c.decay_steps, decay_rate: c.decay_rate, staircase: c.staircase ?? false, name: c.name ?? null };
  return define('InverseTimeDecay', config, (step) => {
    const p = step / config.decay_steps;
    return config.initial_learning_rate / (1 + config.decay_rate * (config.staircase ? Math.floor(p) : p));
  });
}

const cosCodec = t.intersection([t.type({ initial_learning_rate: t.number, decay_steps: t.number }), t.partial({ alpha: t.number, name: nullable(t.string) })]);
export type CosineDecayArgs = t.TypeOf<typeof cosCodec>;

/** `initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)`. */
export function CosineDecay(args: CosineDecayArgs): LearningRateSchedule {
  const c = decodeConfig(cosCodec, args, where('CosineDecay'));
  positive('CosineDecay', 'decay_steps', c.decay_steps);
  const config = { initial_learning_rate: c.initial_learning_rate, decay_steps: c.decay_steps, alpha: c.alpha ?? 0.0, name: c.name ?? null };
  return define('CosineDecay', config, (step) => {
    const fraction = Math.min(step, config.decay_steps) / config.decay_steps;
    const cosine = 0.5 * (1 + Math.cos(Math.PI * fraction));
    return config.initial_learning_rate * ((1 - config.alpha) * cosine + config.alpha);
  });
}

const restartsCodec = t.intersection([
  t.type({ initial_learning_rate: t.number, first_decay_steps: t.number }),
  t.partial({ t_mul: t.number, m_mul: t.number, alpha: t.number, name: nullable(t.string) }),
]);
export type CosineDecayRestartsArgs = t.TypeOf<typeof restartsCodec>;

/**
 * SGDR: cosine decay over `first_decay_steps`, then warm restarts, each
 * period `t_mul` times longer and starting at `m_mul` times the previous peak.
 */
export function CosineDecayRestarts(args: CosineDecayRestartsArgs): LearningRateSchedule {
  const c = decodeConfig(restartsCodec, args, where('CosineDecayRestarts'));
  positive('CosineDecayRestarts', 'first_decay_steps', c.first_decay_steps);
  const config = {
    initial_learning_rate: c.initial_learning_rate,
    first_decay_steps: c.first_decay_steps,
    t_mul: c.t_mul ?? 2.0,
    m_mul: c.m_mul ?? 1.0,
    alpha: c.alpha ?? 0.0,
    name: c.name ?? null,
  };
  return define('CosineDecayRestarts', config, (step) => {
    let fraction = step / config.first_decay_steps;
    let restart: number;
    if (config.t_mul === 1) {
      restart = Math.floor(fraction);
      fraction -= restart;
    } else {
      restart = Math.floor(Math.log(1 - fraction * (1 - config.t_mul)) / Math.log(config.t_mul));
      const sum = (1 - config.t_mul ** restart) / (1 - config.t_mul);
      fraction = (fraction - sum) / config.t_mul ** restart;
    }
    const cosine = 0.5 * config.m_mul ** restart * (1 + Math.cos(Math.PI * fraction));
    return config.initial_learning_rate * ((1 - config.alpha) * cosine + config.alpha);
  });
}

const SCHEDULES: Record<string, (config: never) => LearningRateSchedule> = {
  ExponentialDecay,
  PiecewiseConstantDecay,
  PolynomialDecay,
  InverseTimeDecay,
  CosineDecay,
  CosineDecayRestarts,
};

export const scheduleNames: readonly string[] = Object.keys(SCHEDULES);

export function isSchedule(x: unknown): x is Schedule {
  return typeof x === 'function';
}

/**
 * A schedule from its Keras serialization `{ class_name, config }` (as in an
 * optimizer's `learning_rate`), or the schedule itself.
 */
export function getSchedule(spec: ScheduleSpec | Schedule): Schedule {
  if (isSchedule(spec)) return spec;
  const name = typeof spec?.class_name === 'string' ? spec.class_name.replace(/^.*[>.]/, '') : undefined;
  const make = name !== undefined ? SCHEDULES[name] : undefined;
  if (!make) throw new UnknownNameError('learning rate schedule', String(spec?.class_name), scheduleNames);
  return make((spec.config ?? {}) as never);
}

/** `{ class_name, config }` as Keras serialises a schedule; throws for a plain function. */
export function serializeSchedule(schedule: Schedule): { class_name: string; config: Record<string, unknown> } {
  const s = schedule as Partial<LearningRateSchedule>;
  if (typeof s.className !== 'string' || typeof s.getConfig !== 'function')
    throw new ConfigDecodeError('learning_rate', 'a Keras LearningRateSchedule (ExponentialDecay, ...) to serialise; a plain function cannot be saved', 'a function', 'serializeSchedule');
  return { class_name: s.className, config: s.getConfig() };
}
