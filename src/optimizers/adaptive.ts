import * as ops from '../ops/index.js';
import { mapTree, type TensorTree } from '../core/tree.js';
import { InvalidArgumentError } from '../core/errors.js';
import { checkNumber, mapLeaves, slotAt, type GradientTransformation } from './transformation.js';

/*
 * Adaptive rescalings with tf.keras 2 (OptimizerV2 / TensorFlow kernel)
 * formulas. Each returns the step direction without the learning rate:
 * follow it with `scaleByLearningRate(lr)`. Slot names are Keras's slot
 * names, so a Keras optimizer can list them as its weights. Step counts are
 * JS numbers: bias corrections are computed in float64 on the host.
 */

const zeros = (params: TensorTree) => mapTree(params, (p) => ops.zerosLike(p));

function betaCheck(where: string, name: string, value: number): number {
  return checkNumber(`${where}({ ${name} })`, value, { min: 0, max: 1 });
}

function epsilonOf(where: string, epsilon: number | null | undefined): number {
  // Keras: `epsilon or backend.epsilon()`.
  return epsilon ? checkNumber(`${where}({ epsilon })`, epsilon, { min: 0 }) : 1e-7;
}

// ---- Adam ----

export interface ScaleByAdamOptions {
  beta_1?: number;
  beta_2?: number;
  /** "epsilon hat" (added to sqrt(v), not to the bias-corrected sqrt(v_hat)). */
  epsilon?: number;
  amsgrad?: boolean;
}

export interface ScaleByAdamState {
  count: number;
  m: TensorTree;
  v: TensorTree;
  vhat?: TensorTree;
}

/**
 * tf.keras 2 Adam (`ResourceApplyAdam`, epsilon-hat form): with t = count + 1,
 * `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g^2`, update
 * `m * sqrt(1-b2^t)/(1-b1^t) / (sqrt(v) + eps)`; AMSGrad uses
 * `vhat = max(vhat, v)` in place of `v` in the denominator.
 */
export function scaleByAdam({ beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7, amsgrad = false }: ScaleByAdamOptions = {}): GradientTransformation<ScaleByAdamState> {
  const b1 = betaCheck('scaleByAdam', 'beta_1', beta_1);
  const b2 = betaCheck('scaleByAdam', 'beta_2', beta_2);
  const eps = epsilonOf('scaleByAdam', epsilon);
  return {
    init: (params) => ({ count: 0, m: zeros(params), v: zeros(params), ...(amsgrad ? { vhat: zeros(params) } : {}) }),
    update(grads, state) {
      const t = state.count + 1;
      const alpha = adamStepScale(b1, b2, t);
      const keys = amsgrad ? (['updates', 'm', 'v', 'vhat'] as const) : (['updates', 'm', 'v'] as const);
      const r = mapLeaves(grads, keys, (g, path) => {
        const m = ops.add(ops.mul(slotAt(state.m, path, 'm'), b1), ops.mul(g, 1 - b1));
        const v = ops.add(ops.mul(slotAt(state.v, path, 'v'), b2), ops.mul(ops.square(g), 1 - b2));
        const vhat = amsgrad ? ops.maximum(slotAt(state.vhat!, path, 'vhat'), v) : undefined;
        const updates = ops.div(ops.mul(m, alpha), ops.add(ops.sqrt(vhat ?? v), eps));
        return (vhat ? { updates, m, v, vhat } : { updates, m, v }) as Record<(typeof keys)[number], ops.Tensor>;
      });
      const { updates, ...slots } = r as Record<'updates' | 'm' | 'v' | 'vhat', TensorTree>;
      return { updates, state: { count: t, ...slots } };
    },
  };
}

/** Adam's bias correction at step t (1-based): `sqrt(1 - b2^t) / (1 - b1^t)`, in float64. */
export function adamStepScale(b1: number, b2: number, t: number): number {
  return Math.sqrt(1 - b2 ** t) / (1 - b1 ** t);
}

// ---- Adamax ----

export interface ScaleByAdamaxState {
  count: number;
  m: TensorTree;
  v: TensorTree;
}

/**
 * tf.keras 2 Adamax (`ResourceApplyAdaMax`): `m = b1 m + (1-b1) g`,
 * `v = max(b2 v, |g|)`, update `m / (v + eps) / (1 - b1^t)`.
 */
export function scaleByAdamax({ beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7 }: Omit<ScaleByAdamOptions, 'amsgrad'> = {}): GradientTransformation<ScaleByAdamaxState> {
  const b1 = betaCheck('scaleByAdamax', 'beta_1', beta_1);
  const b2 = betaCheck('scaleByAdamax', 'beta_2', beta_2);
  const eps = epsilonOf('scaleByAdamax', epsilon);
  return {
    init: (params) => ({ count: 0, m: zeros(params), v: zeros(params) }),
    update(grads, state) {
      const t = state.count + 1;
      const c = 1 / (1 - b1 ** t);
      const r = mapLeaves(grads, ['updates', 'm', 'v'], (g, path) => {
        const m = ops.add(ops.mul(slotAt(state.m, path, 'm'), b1), ops.mul(g, 1 - b1));
        const v = ops.maximum(ops.mul(slotAt(state.v, path, 'v'), b2), ops.abs(g));
        return { updates: ops.mul(ops.div(m, ops.add(v, eps)), c), m, v };
      });
      return { updates: r.updates, state: { count: t, m: r.m, v: r.v } };
    },
  };
}

// ---- Nadam ----

export interface ScaleByNadamOptions extends Omit<ScaleByAdamOptions, 'amsgrad'> {
  /** Keras's `schedule_decay` (stored as Nadam's `decay`): the momentum-cache schedule. */
  schedule_decay?: number;
}

export interface ScaleByNadamState {
  count: number;
  /** Product of the momentum schedule so far (Keras's `momentum_cache` weight), starts at 1. */
  momentum_cache: number;
  m: TensorTree;
  v: TensorTree;
}

/**
 * tf.keras 2 Nadam (Dozat 2015, with Keras's momentum cache): with t = count + 1,
 * `mu_t = b1 (1 - 0.5 * 0.96^(decay t))`, `mu_t1 = b1 (1 - 0.5 * 0.96^(decay (t+1)))`,
 * `cache = cache * mu_t`; `m`, `v` as in Adam; update
 * `((1-mu_t) g/(1-cache) + mu_t1 m/(1-cache*mu_t1)) / (sqrt(v/(1-b2^t)) + eps)`.
 */
export function scaleByNadam({ beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7, schedule_decay = 0.004 }: ScaleByNadamOptions = {}): GradientTransformation<ScaleByNadamState> {
  const b1 = betaCheck('scaleByNadam', 'beta_1', beta_1);
  const b2 = betaCheck('scaleByNadam', 'beta_2', beta_2);
  const eps = epsilonOf('scaleByNadam', epsilon);
  const decay = checkNumber('scaleByNadam({ schedule_decay })', schedule_decay, { min: 0 });
  return {
    init: (params) => ({ count: 0, momentum_cache: 1, m: zeros(params), v: zeros(params) }),
    update(grads, state) {
      const t = state.count + 1;
      const muT = b1 * (1 - 0.5 * 0.96 ** (decay * t));
      const muT1 = b1 * (1 - 0.5 * 0.96 ** (decay * (t + 1)));
      const scheduleNew = state.momentum_cache * muT;
      const scheduleNext = scheduleNew * muT1;
      const vDenominator = 1 - b2 ** t;
      const r = mapLeaves(grads, ['updates', 'm', 'v'], (g, path) => {
        const m = ops.add(ops.mul(slotAt(state.m, path, 'm'), b1), ops.mul(g, 1 - b1));
        const v = ops.add(ops.mul(slotAt(state.v, path, 'v'), b2), ops.mul(ops.square(g), 1 - b2));
        const mBar = ops.add(ops.mul(g, (1 - muT) / (1 - scheduleNew)), ops.mul(m, muT1 / (1 - scheduleNext)));
        return { updates: ops.div(mBar, ops.add(ops.sqrt(ops.div(v, vDenominator)), eps)), m, v };
      });
      return { updates: r.updates, state: { count: t, momentum_cache: scheduleNew, m: r.m, v: r.v } };
    },
  };
}

// ---- RMSprop ----

export interface ScaleByRmsOptions {
  rho?: number;
  epsilon?: number;
  centered?: boolean;
  /**
   * `g / sqrt(rms + eps)` instead of `g / (sqrt(rms) + eps)`: tf.keras 2
   * RMSprop uses this form when momentum > 0 (the fused `ResourceApplyRMSProp` kernels).
   */
  epsilonInsideSqrt?: boolean;
}

export interface ScaleByRmsState {
  rms: TensorTree;
  /** Moving average of the gradients (centered only). */
  mg?: TensorTree;
}

/**
 * tf.keras 2 RMSprop scaling: `rms = rho rms + (1-rho) g^2`; centered also
 * `mg = rho mg + (1-rho) g` and uses `rms - mg^2`; update
 * `g / (sqrt(denominator) + eps)` (or `g / sqrt(denominator + eps)`).
 */
export function scaleByRms({ rho = 0.9, epsilon = 1e-7, centered = false, epsilonInsideSqrt = false }: ScaleByRmsOptions = {}): GradientTransformation<ScaleByRmsState> {
  const r0 = checkNumber('scaleByRms({ rho })', rho, { min: 0, max: 1 });
  const eps = epsilonOf('scaleByRms', epsilon);
  return {
    init: (params) => ({ rms: zeros(params), ...(centered ? { mg: zeros(params) } : {}) }),
    update(grads, state) {
      const keys = centered ? (['updates', 'rms', 'mg'] as const) : (['updates', 'rms'] as const);
      const r = mapLeaves(grads, keys, (g, path) => {
        const rms = ops.add(ops.mul(slotAt(state.rms, path, 'rms'), r0), ops.mul(ops.square(g), 1 - r0));
        const mg = centered ? ops.add(ops.mul(slotAt(state.mg!, path, 'mg'), r0), ops.mul(g, 1 - r0)) : undefined;
        const denominator = mg ? ops.sub(rms, ops.square(mg)) : rms;
        const updates = epsilonInsideSqrt ? ops.div(g, ops.sqrt(ops.add(denominator, eps))) : ops.div(g, ops.add(ops.sqrt(denominator), eps));
        return (mg ? { updates, rms, mg } : { updates, rms }) as Record<(typeof keys)[number], ops.Tensor>;
      });
      const { updates, ...slots } = r as Record<'updates' | 'rms' | 'mg', TensorTree>;
      return { updates, state: slots };
    },
  };
}

// ---- Adagrad ----

export interface ScaleByRssOptions {
  initial_accumulator_value?: number;
  epsilon?: number;
}

export interface ScaleByRssState {
  accumulator: TensorTree;
}

/**
 * tf.keras 2 Adagrad (`ResourceApplyAdagradV2`), Optax's root sum of squares:
 * `accumulator += g^2`, update `g / (sqrt(accumulator) + eps)`.
 */
export function scaleByRss({ initial_accumulator_value = 0.1, epsilon = 1e-7 }: ScaleByRssOptions = {}): GradientTransformation<ScaleByRssState> {
  if (!(initial_accumulator_value >= 0))
    throw new InvalidArgumentError('scaleByRss({ initial_accumulator_value })', 'a non-negative number', initial_accumulator_value);
  const eps = epsilonOf('scaleByRss', epsilon);
  return {
    init: (params) => ({ accumulator: mapTree(params, (p) => ops.fill(p.shape, initial_accumulator_value, p.dtype)) }),
    update(grads, state) {
      const r = mapLeaves(grads, ['updates', 'accumulator'], (g, path) => {
        const accumulator = ops.add(slotAt(state.accumulator, path, 'accumulator'), ops.square(g));
        return { updates: ops.div(g, ops.add(ops.sqrt(accumulator), eps)), accumulator };
      });
      return { updates: r.updates, state: { accumulator: r.accumulator } };
    },
  };
}

// ---- Adadelta ----

export interface ScaleByAdadeltaOptions {
  rho?: number;
  epsilon?: number;
}

export interface ScaleByAdadeltaState {
  accum_grad: TensorTree;
  accum_var: TensorTree;
}

/**
 * tf.keras 2 Adadelta (`ResourceApplyAdadelta`):
 * `accum_grad = rho accum_grad + (1-rho) g^2`,
 * `d = sqrt(accum_var + eps) / sqrt(accum_grad + eps) * g`,
 * `accum_var = rho accum_var + (1-rho) d^2`; update `d` (the learning rate
 * scales it afterwards, not the accumulated `d^2`).
 */
export function scaleByAdadelta({ rho = 0.95, epsilon = 1e-7 }: ScaleByAdadeltaOptions = {}): GradientTransformation<ScaleByAdadeltaState> {
  const r0 = checkNumber('scaleByAdadelta({ rho })', rho, { min: 0, max: 1 });
  const eps = epsilonOf('scaleByAdadelta', epsilon);
  return {
    init: (params) => ({ accum_grad: zeros(params), accum_var: zeros(params) }),
    update(grads, state) {
      const r = mapLeaves(grads, ['updates', 'accum_grad', 'accum_var'], (g, path) => {
        const accumGrad = ops.add(ops.mul(slotAt(state.accum_grad, path, 'accum_grad'), r0), ops.mul(ops.square(g), 1 - r0));
        const accumVar0 = slotAt(state.accum_var, path, 'accum_var');
        const d = ops.mul(ops.div(ops.sqrt(ops.add(accumVar0, eps)), ops.sqrt(ops.add(accumGrad, eps))), g);
        const accumVar = ops.add(ops.mul(accumVar0, r0), ops.mul(ops.square(d), 1 - r0));
        return { updates: d, accum_grad: accumGrad, accum_var: accumVar };
      });
      return { updates: r.updates, state: { accum_grad: r.accum_grad, accum_var: r.accum_var } };
    },
  };
}
