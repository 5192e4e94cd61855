import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { decodeConfig, nullable } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { isTensor, type TensorTree } from '../core/tree.js';
import type { FusedRule } from '../ops/compiled/index.js';
import { adamStepScale, scaleByAdadelta, scaleByAdam, scaleByAdamax, scaleByNadam, scaleByRms, scaleByRss } from './adaptive.js';
import { clipByGlobalNorm, clipByNorm, clipByValue } from './clipping.js';
import { injectHyperparams, type HyperValue } from './inject.js';
import { scale, scaleByLearningRate, type Hyper } from './scale.js';
import { getSchedule, isSchedule, serializeSchedule, type Schedule, type ScheduleSpec } from './schedules.js';
import { trace } from './trace.js';
import { chain, type GradientTransformation } from './transformation.js';
import { optimizerWeights, setOptimizerWeights, type OptimizerState, type ParamPaths, type WeightLayout } from './keras-weights.js';
import { applyFusedRule } from './keras-fused.js';

/**
 * A Keras 2 optimizer (OptimizerV2 family) as a gradient transformation:
 * Keras's class name, config keys, defaults and update rules, with the
 * learning rate and the other Keras hyper-parameters injected into the state.
 */
export interface Optimizer extends GradientTransformation<OptimizerState> {
  readonly className: string;
  /** Keras's `name`, the prefix of the optimizer's weight names ('Adam/iter:0'). */
  readonly name: string;
  /** Slot names per parameter, in Keras's weight order ('m', 'v', ...). */
  readonly slotNames: readonly string[];
  /**
   * The Keras config (snake_case keys: name, learning_rate, decay, beta_1, ...).
   * With a state, hyper-parameters are read from it (a learning rate set by a
   * callback is saved); without, the constructor's values are used.
   */
  getConfig(state?: OptimizerState): Record<string, unknown>;
  /**
   * The optimizer's weights as tf.keras 2 `get_weights()` orders and names
   * them: `<name>/iter:0` first (int32 here, int64 in Keras), then
   * Nadam's `momentum_cache`, then for each slot name all parameters'
   * slots (`Adam/dense/kernel/m:0`, `Adam/dense/bias/m:0`, ...,
   * `Adam/dense/kernel/v:0`, ...). `paramPaths` defaults to the params tree's
   * leaf order. Every returned tensor is new: the caller disposes them;
   * without `copy`, the slots are the state's own (read them before the
   * state goes; dispose only the others).
   */
  weights(state: OptimizerState, paramPaths?: ParamPaths, copy?: boolean): [string, ops.Tensor][];
  /**
   * A new state with the weights in `values` (in the order of `weights()`),
   * accepting tf.keras 1 layouts as Keras does (no `iterations` for RMSprop,
   * Adagrad and Adadelta; Adam lists with `vhat`s). The values are copied
   * (the caller keeps them), or with `adopt` taken over (the new state holds
   * them, the rest are disposed: for values made only to be set), and `state`
   * is left as it was (the caller disposes it when done).
   */
  setWeights(state: OptimizerState, values: readonly ops.Tensor[], paramPaths?: ParamPaths, adopt?: boolean): OptimizerState;
  /**
   * The update and its application in one fused pass per weight on the
   * compiled backend (ops/compiled's fusedApply): the new params and state,
   * the same numbers as `update` then `applyUpdates`. Undefined where this
   * optimizer or configuration has no fused form (clipping, tensor
   * hyper-parameters, Adagrad, Adadelta, Adamax, Nadam): use `update`.
   */
  applyFused?(params: TensorTree, grads: TensorTree, state: OptimizerState): { params: TensorTree; state: OptimizerState } | undefined;
  /**
   * The fused update's rule for the step after `state` (its scalars as this
   * step's numbers), for updates run elsewhere (a data-parallel replica's
   * range of the weights in shared memory); undefined where `applyFused` is.
   */
  fusedRule?(state: OptimizerState): FusedRule | undefined;
}

/** A learning rate: a number, a schedule, or a schedule's Keras serialisation. */
export type LearningRateArg = number | Schedule | ScheduleSpec;

/** The keyword arguments every Keras 2 optimizer accepts. */
export interface OptimizerArgs {
  name?: string;
  learning_rate?: LearningRateArg;
  /** Legacy name of `learning_rate`; wins over it, as in Keras. */
  lr?: LearningRateArg;
  /** Legacy time-based decay: `lr / (1 + decay * iterations)`. */
  decay?: number;
  clipnorm?: number | null;
  clipvalue?: number | null;
  global_clipnorm?: number | null;
  [key: string]: unknown;
}

export interface SGDArgs extends OptimizerArgs {
  momentum?: number;
  nesterov?: boolean;
}
export interface RMSpropArgs extends OptimizerArgs {
  rho?: number;
  momentum?: number;
  epsilon?: number | null;
  centered?: boolean;
}
export interface AdamArgs extends OptimizerArgs {
  beta_1?: number;
  beta_2?: number;
  epsilon?: number | null;
  amsgrad?: boolean;
}
export interface AdagradArgs extends OptimizerArgs {
  initial_accumulator_value?: number;
  epsilon?: number | null;
}
export interface AdadeltaArgs extends OptimizerArgs {
  rho?: number;
  epsilon?: number | null;
}
export interface AdamaxArgs extends OptimizerArgs {
  beta_1?: number;
  beta_2?: number;
  epsilon?: number | null;
}
export interface NadamArgs extends AdamaxArgs {
  /** Momentum-cache decay; Keras stores it as Nadam's `decay` and ignores a `decay` argument. */
  schedule_decay?: number;
}

const isLearningRateArg = (u: unknown): u is LearningRateArg =>
  (typeof u === 'number' && Number.isFinite(u)) || isSchedule(u) || (typeof u === 'object' && u !== null && !isTensor(u) && typeof (u as ScheduleSpec).class_name === 'string');
const lrCodec = new t.Type<LearningRateArg, LearningRateArg, unknown>(
  'a number, a LearningRateSchedule or { class_name, config }',
  isLearningRateArg,
  (u, c) => (isLearningRateArg(u) ? t.success(u) : t.failure(u, c, 'a number, a LearningRateSchedule or { class_name, config }')),
  t.identity,
);

const commonCodec = t.partial({
  name: t.string,
  learning_rate: lrCodec,
  lr: lrCodec,
  decay: nullable(t.number),
  clipnorm: nullable(t.number),
  clipvalue: nullable(t.number),
  global_clipnorm: nullable(t.number),
  weight_decay: nullable(t.number),
  use_ema: nullable(t.boolean),
});

interface Definition {
  /** Keras's defaults merged with the arguments, in get_config order (after name, clips, learning_rate, decay). */
  config: Record<string, unknown>;
  /** Keras hyper-parameters besides learning_rate that live in the state. */
  hyperparams: Record<string, number>;
  /** The transformations after clipping, given this step's hyper-parameters and (decayed) learning rate. */
  build(h: Record<string, Hyper>, lr: Hyper): GradientTransformation<any>[];
  slotNames: string[];
  scalarNames?: string[];
  /** Whether `decay` divides the learning rate (all but Nadam). */
  decayLearningRate?: boolean;
  /** Keras 1 weight lists lack `iterations` (RMSprop, Adagrad, Adadelta). */
  v1WithoutIterations?: boolean;
  /** Keras 1 Adam lists carry `vhat`s even without amsgrad. */
  v1ExtraSlots?: number;
  /** Nadam overrides `decay` with its schedule_decay. */
  decay?: number;
  allowSchedule?: boolean;
  /** The fused update's rule for step t (1-based), given the hyper-parameters and (decayed) learning rate as numbers. */
  fused?(h: Record<string, number>, lr: number, t: number): FusedRule;
}

function defineOptimizer(className: string, defaultLr: number, raw: unknown, define: (where: string) => Definition): Optimizer {
  const where = `${className} config`;
  const c = decodeConfig(commonCodec, raw ?? {}, where);
  const name = c.name ?? className;
  for (const k of ['decay', 'clipnorm', 'clipvalue', 'global_clipnorm'] as const) {
    const v = c[k];
    if (v !== undefined && v !== null && !(v >= 0)) throw new ConfigDecodeError(k, 'a number >= 0', v, where);
  }
  if (c.clipnorm != null && c.global_clipnorm != null)
    throw new ConfigDecodeError('global_clipnorm', 'null when clipnorm is set (Keras accepts only one of clipnorm and global_clipnorm)', c.global_clipnorm, where);
  if (c.weight_decay != null && c.weight_decay !== 0)
    throw new ConfigDecodeError('weight_decay', 'null (decoupled weight decay belongs to the Keras 2.11+ optimizers; use chain(addDecayedWeights(wd), ...) for L2 decay)', c.weight_decay, where);
  if (c.use_ema) throw new ConfigDecodeError('use_ema', 'false (EMA of weights is not implemented)', c.use_ema, where);

  const d = define(where);
  const lrArg = c.lr ?? c.learning_rate ?? defaultLr;
  const learningRate: number | Schedule = typeof lrArg === 'number' || isSchedule(lrArg) ? lrArg : getSchedule(lrArg);
  if (isSchedule(learningRate) && d.allowSchedule === false)
    throw new ConfigDecodeError('learning_rate', `a number (the ${className} optimizer does not support learning rate schedules)`, 'a schedule', where);
  const decay = d.decay ?? c.decay ?? 0;
  const decayLr = (d.decayLearningRate ?? true) && decay > 0;

  const clips: GradientTransformation<any>[] = [];
  if (c.clipvalue != null) clips.push(clipByValue(c.clipvalue));
  if (c.clipnorm != null) clips.push(clipByNorm(c.clipnorm));
  if (c.global_clipnorm != null) clips.push(clipByGlobalNorm(c.global_clipnorm));

  const initialHypers: Record<string, HyperValue> = { learning_rate: learningRate, ...d.hyperparams };
  const transformation = injectHyperparams((h, iterations) => {
    const lr = decayLr && iterations > 0 ? (typeof h.learning_rate === 'number' ? h.learning_rate / (1 + decay * iterations) : ops.div(h.learning_rate, 1 + decay * iterations)) : h.learning_rate;
    return chain(...clips, ...d.build(h, lr as Hyper));
  }, initialHypers);

  const layout: WeightLayout = {
    className,
    name,
    slotNames: d.slotNames,
    scalarNames: d.scalarNames ?? [],
    v1WithoutIterations: d.v1WithoutIterations,
    v1ExtraSlots: d.v1ExtraSlots,
  };
  const optimizer: Optimizer = {
    className,
    name,
    slotNames: d.slotNames,
    init: (params) => transformation.init(params),
    update: (grads, state, params) => transformation.update(grads, state, params),
    getConfig(state) {
      const hyper = (key: string, fallback: HyperValue): unknown => serializeHyper(state && key in state.hyperparams ? state.hyperparams[key] : fallback);
      const config: Record<string, unknown> = { name };
      if (c.clipnorm != null) config.clipnorm = c.clipnorm;
      if (c.clipvalue != null) config.clipvalue = c.clipvalue;
      if (c.global_clipnorm != null) config.global_clipnorm = c.global_clipnorm;
      config.learning_rate = hyper('learning_rate', learningRate);
      config.decay = decay;
      for (const [k, v] of Object.entries(d.config)) config[k] = k in d.hyperparams ? hyper(k, v as number) : v;
      return config;
    },
    weights: (state, paramPaths, copy) => optimizerWeights(layout, state, paramPaths, copy),
    setWeights: (state, values, paramPaths, adopt) => setOptimizerWeights(layout, state, values, paramPaths, adopt),
    applyFused(params, grads, state) {
      const rule = optimizer.fusedRule!(state);
      return rule && applyFusedRule(rule, d.slotNames, params, grads, state);
    },
    fusedRule(state) {
      if (!d.fused || clips.length > 0) return undefined;
      const h: Record<string, number> = {};
      for (const [k, v] of Object.entries(state.hyperparams)) {
        const x = isSchedule(v) ? v(state.iterations) : v;
        if (typeof x !== 'number') return undefined;
        h[k] = x;
      }
      const it = state.iterations;
      const lr = decayLr && it > 0 ? h.learning_rate / (1 + decay * it) : h.learning_rate;
      return d.fused(h, lr, it + 1);
    },
  };
  return optimizer;
}

function serializeHyper(v: HyperValue): unknown {
  if (typeof v === 'number') return v;
  if (isTensor(v)) return v.dataSync()[0];
  return serializeSchedule(v);
}

function num(h: Hyper): number {
  return typeof h === 'number' ? h : h.dataSync()[0];
}

function epsilonOr(v: unknown): number {
  return typeof v === 'number' && v !== 0 ? v : 1e-7;
}

function unitInterval(where: string, field: string, v: number): number {
  if (!(v >= 0 && v <= 1)) throw new ConfigDecodeError(field, 'a number in [0, 1]', v, where);
  return v;
}

const sgdCodec = t.partial({ momentum: t.number, nesterov: t.boolean });
/** tf.keras 2 `SGD`: learning_rate 0.01, momentum 0 (Keras velocity form), nesterov false. */
export function SGD(args: SGDArgs = {}): Optimizer {
  return defineOptimizer('SGD', 0.01, args, (where) => {
    const o = decodeConfig(sgdCodec, args, where);
    const momentum = unitInterval(where, 'momentum', o.momentum ?? 0);
    const nesterov = o.nesterov ?? false;
    const useMomentum = momentum > 0;
    return {
      config: { momentum, nesterov },
      hyperparams: { momentum },
      build: (h, lr) => [scaleByLearningRate(lr), ...(useMomentum ? [trace({ decay: num(h.momentum), nesterov })] : [])],
      fused: (h, lr) => ({ kind: 'sgd', lr, momentum: useMomentum ? h.momentum : undefined, nesterov }),
      slotNames: useMomentum ? ['momentum'] : [],
    };
  });
}

const rmsCodec = t.partial({ rho: t.number, momentum: t.number, epsilon: nullable(t.number), centered: t.boolean });
/**
 * tf.keras 2 `RMSprop`: learning_rate 0.001, rho 0.9, momentum 0, epsilon
 * 1e-7, centered false. Without momentum the step is `lr g / (sqrt(rms) + eps)`;
 * with momentum Keras's fused kernel puts epsilon inside the square root:
 * `mom = momentum mom + lr g / sqrt(rms + eps)`.
 */
export function RMSprop(args: RMSpropArgs = {}): Optimizer {
  return defineOptimizer('RMSprop', 0.001, args, (where) => {
    const o = decodeConfig(rmsCodec, args, where);
    const rho = o.rho ?? 0.9;
    const momentum = unitInterval(where, 'momentum', o.momentum ?? 0);
    const epsilon = epsilonOr(o.epsilon);
    const centered = o.centered ?? false;
    const useMomentum = momentum > 0;
    return {
      config: { rho, momentum, epsilon, centered },
      hyperparams: { rho, momentum },
      build: (h, lr) =>
        useMomentum
          ? [scaleByRms({ rho: num(h.rho), epsilon, centered, epsilonInsideSqrt: true }), scaleByLearningRate(lr, { flipSign: false }), trace({ decay: num(h.momentum) }), scale(-1)]
          : [scaleByRms({ rho: num(h.rho), epsilon, centered }), scaleByLearningRate(lr)],
      fused: (h, lr) => ({ kind: 'rmsprop', lr, rho: h.rho, epsilon, centered, momentum: useMomentum ? h.momentum : undefined }),
      slotNames: ['rms', ...(useMomentum ? ['momentum'] : []), ...(centered ? ['mg'] : [])],
      v1WithoutIterations: true,
    };
  });
}

const adamCodec = t.partial({ beta_1: t.number, beta_2: t.number, epsilon: nullable(t.number), amsgrad: t.boolean });
/** tf.keras 2 `Adam`: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7 (epsilon hat), amsgrad false. */
export function Adam(args: AdamArgs = {}): Optimizer {
  return defineOptimizer('Adam', 0.001, args, (where) => {
    const o = decodeConfig(adamCodec, args, where);
    const beta_1 = o.beta_1 ?? 0.9;
    const beta_2 = o.beta_2 ?? 0.999;
    const epsilon = epsilonOr(o.epsilon);
    const amsgrad = o.amsgrad ?? false;
    return {
      config: { beta_1, beta_2, epsilon, amsgrad },
      hyperparams: { beta_1, beta_2 },
      build: (h, lr) => [scaleByAdam({ beta_1: num(h.beta_1), beta_2: num(h.beta_2), epsilon, amsgrad }), scaleByLearningRate(lr)],
      fused: (h, lr, t) => ({ kind: 'adam', lr, beta1: h.beta_1, beta2: h.beta_2, epsilon, alpha: adamStepScale(h.beta_1, h.beta_2, t), amsgrad }),
      slotNames: amsgrad ? ['m', 'v', 'vhat'] : ['m', 'v'],
      v1ExtraSlots: amsgrad ? 0 : 1,
    };
  });
}

const adagradCodec = t.partial({ initial_accumulator_value: t.number, epsilon: nullable(t.number) });
/** tf.keras 2 `Adagrad`: learning_rate 0.001, initial_accumulator_value 0.1, epsilon 1e-7. */
export function Adagrad(args: AdagradArgs = {}): Optimizer {
  return defineOptimizer('Adagrad', 0.001, args, (where) => {
    const o = decodeConfig(adagradCodec, args, where);
    const initial_accumulator_value = o.initial_accumulator_value ?? 0.1;
    if (!(initial_accumulator_value >= 0)) throw new ConfigDecodeError('initial_accumulator_value', 'a number >= 0', initial_accumulator_value, where);
    const epsilon = epsilonOr(o.epsilon);
    return {
      config: { initial_accumulator_value, epsilon },
      hyperparams: {},
      build: (_h, lr) => [scaleByRss({ initial_accumulator_value, epsilon }), scaleByLearningRate(lr)],
      slotNames: ['accumulator'],
      v1WithoutIterations: true,
    };
  });
}

const adadeltaCodec = t.partial({ rho: t.number, epsilon: nullable(t.number) });
/** tf.keras 2 `Adadelta`: learning_rate 0.001, rho 0.95, epsilon 1e-7. */
export function Adadelta(args: AdadeltaArgs = {}): Optimizer {
  return defineOptimizer('Adadelta', 0.001, args, (where) => {
    const o = decodeConfig(adadeltaCodec, args, where);
    const rho = o.rho ?? 0.95;
    const epsilon = epsilonOr(o.epsilon);
    return {
      config: { rho, epsilon },
      hyperparams: { rho },
      build: (h, lr) => [scaleByAdadelta({ rho: num(h.rho), epsilon }), scaleByLearningRate(lr)],
      slotNames: ['accum_grad', 'accum_var'],
      v1WithoutIterations: true,
    };
  });
}

const adamaxCodec = t.partial({ beta_1: t.number, beta_2: t.number, epsilon: nullable(t.number) });
/** tf.keras 2 `Adamax`: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7. */
export function Adamax(args: AdamaxArgs = {}): Optimizer {
  return defineOptimizer('Adamax', 0.001, args, (where) => {
    const o = decodeConfig(adamaxCodec, args, where);
    const beta_1 = o.beta_1 ?? 0.9;
    const beta_2 = o.beta_2 ?? 0.999;
    const epsilon = epsilonOr(o.epsilon);
    return {
      config: { beta_1, beta_2, epsilon },
      hyperparams: { beta_1, beta_2 },
      build: (h, lr) => [scaleByAdamax({ beta_1: num(h.beta_1), beta_2: num(h.beta_2), epsilon }), scaleByLearningRate(lr)],
      slotNames: ['m', 'v'],
    };
  });
}

const nadamCodec = t.partial({ beta_1: t.number, beta_2: t.number, epsilon: nullable(t.number), schedule_decay: t.number });
/**
 * tf.keras 2 `Nadam`: learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon
 * 1e-7. As in Keras, its `decay` is the momentum-cache `schedule_decay`
 * (default 0.004; a `decay` argument is overridden), the learning rate is
 * not time-decayed, and learning rate schedules are refused.
 */
export function Nadam(args: NadamArgs = {}): Optimizer {
  return defineOptimizer('Nadam', 0.001, args, (where) => {
    const o = decodeConfig(nadamCodec, args, where);
    const beta_1 = o.beta_1 ?? 0.9;
    const beta_2 = o.beta_2 ?? 0.999;
    const epsilon = epsilonOr(o.epsilon);
    const schedule_decay = o.schedule_decay ?? 0.004;
    return {
      config: { beta_1, beta_2, epsilon },
      hyperparams: { beta_1, beta_2 },
      build: (h, lr) => [scaleByNadam({ beta_1: num(h.beta_1), beta_2: num(h.beta_2), epsilon, schedule_decay }), scaleByLearningRate(lr)],
      slotNames: ['m', 'v'],
      scalarNames: ['momentum_cache'],
      decay: schedule_decay,
      decayLearningRate: false,
      allowSchedule: false,
    };
  });
}
