import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import { isTensor } from '../core/tree.js';
import { isSchedule, type Schedule } from './schedules.js';
import type { Hyper } from './scale.js';
import type { GradientTransformation, TransformResult } from './transformation.js';

export type { Hyper } from './scale.js';

/** What a hyper-parameter may hold in the state: a number, a scalar tensor, or a schedule of the step. */
export type HyperValue = Hyper | Schedule;

/**
 * The state of an optimizer with injected hyper-parameters (Optax's
 * `inject_hyperparams`): the step counter `iterations` (Keras's
 * `optimizer.iterations`, the number of updates so far), the
 * hyper-parameters, readable and settable between steps, and the inner
 * transformation's state. Tensor hyper-parameters are owned by the state.
 */
export interface InjectedState<S = unknown> {
  readonly iterations: number;
  readonly hyperparams: Readonly<Record<string, HyperValue>>;
  readonly inner: S;
}

/**
 * Builds a transformation whose hyper-parameters live in its state. `factory`
 * receives their values at the current step (schedules evaluated at
 * `iterations`) and `iterations`, and returns the transformation for this
 * step; its structure (the shape of its state) must not depend on them.
 * Tensor hyper-parameters given here are cloned: the caller keeps its own.
 */
export function injectHyperparams<S>(
  factory: (hyperparams: Record<string, Hyper>, iterations: number) => GradientTransformation<S>,
  hyperparams: Record<string, HyperValue>,
): GradientTransformation<InjectedState<S>> {
  for (const [name, value] of Object.entries(hyperparams)) checkHyper(name, value);
  return {
    init(params) {
      return ops.tidy(() => {
        const inner = factory(resolve(hyperparams, 0), 0).init(params);
        return { iterations: 0, hyperparams: copyHypers(hyperparams), inner } as never;
      }) as InjectedState<S>;
    },
    update(grads, state, params) {
      if (!isInjectedState(state))
        throw new InvalidArgumentError('update(grads, state)', "the state that this optimizer's init(params) or previous update returned ({ iterations, hyperparams, inner })", describeState(state));
      return ops.tidy(() => {
        const r = factory(resolve(state.hyperparams, state.iterations), state.iterations).update(grads, state.inner, params);
        return { updates: r.updates, state: { iterations: state.iterations + 1, hyperparams: copyHypers(state.hyperparams), inner: r.state } } as never;
      }) as TransformResult<InjectedState<S>>;
    },
  };
}

export function isInjectedState(x: unknown): x is InjectedState {
  return typeof x === 'object' && x !== null && typeof (x as InjectedState).iterations === 'number' && typeof (x as InjectedState).hyperparams === 'object' && 'inner' in x;
}

/** The value of a hyper-parameter at the state's step, as a number (a tensor is read back synchronously). */
export function getHyperparam(state: InjectedState, name: string): number {
  const value = hyperOf(state, name);
  if (isSchedule(value)) return value(state.iterations);
  return typeof value === 'number' ? value : value.dataSync()[0];
}

/** The raw hyper-parameter as stored (number, scalar tensor lent by the state, or schedule). */
export function getHyperparamValue(state: InjectedState, name: string): HyperValue {
  return hyperOf(state, name);
}

/**
 * A state with hyper-parameter `name` set to `value` (a schedule replaces a
 * number and the other way round, as Keras's `_set_hyper` does). The result
 * REPLACES `state`: it takes over the state's tensors, so dispose the result
 * later and never `state` itself. The replaced value, if a tensor, is
 * disposed; a tensor `value` is cloned (the caller keeps its own).
 */
export function setHyperparam<S extends InjectedState>(state: S, name: string, value: HyperValue): S {
  const old = hyperOf(state, name);
  checkHyper(name, value);
  const next = isTensor(value) ? ops.clone(value) : value;
  if (isTensor(old) && old !== next) old.dispose();
  return { ...state, hyperparams: { ...state.hyperparams, [name]: next } };
}

/** The learning rate at the state's step (a schedule is evaluated at `iterations`; Keras's `decay` is not applied). */
export function getLearningRate(state: InjectedState): number {
  return getHyperparam(state, 'learning_rate');
}

/** `setHyperparam(state, 'learning_rate', lr)`: the result replaces `state` (see there). */
export function setLearningRate<S extends InjectedState>(state: S, lr: HyperValue): S {
  return setHyperparam(state, 'learning_rate', lr);
}

/** The number of updates the state has seen (Keras's `optimizer.iterations`). */
export function getIterations(state: InjectedState): number {
  return state.iterations;
}

function hyperOf(state: InjectedState, name: string): HyperValue {
  if (!isInjectedState(state)) throw new InvalidArgumentError('state', 'an optimizer state ({ iterations, hyperparams, inner })', describeState(state));
  if (!(name in state.hyperparams))
    throw new InvalidArgumentError(`hyper-parameter '${name}'`, `one of ${Object.keys(state.hyperparams).join(', ') || '(none)'}`, name);
  return state.hyperparams[name];
}

function checkHyper(name: string, value: unknown): void {
  const ok = (typeof value === 'number' && Number.isFinite(value)) || isSchedule(value) || (isTensor(value) && value.rank === 0);
  if (!ok) throw new InvalidArgumentError(`hyper-parameter '${name}'`, 'a finite number, a scalar tensor or a schedule (step) => number', isTensor(value) ? `a tensor of shape [${value.shape}]` : value);
}

function resolve(hyperparams: Readonly<Record<string, HyperValue>>, step: number): Record<string, Hyper> {
  const out: Record<string, Hyper> = {};
  for (const [k, v] of Object.entries(hyperparams)) out[k] = isSchedule(v) ? v(step) : v;
  return out;
}

function copyHypers(hyperparams: Readonly<Record<string, HyperValue>>): Record<string, HyperValue> {
  const out: Record<string, HyperValue> = {};
  for (const [k, v] of Object.entries(hyperparams)) out[k] = isTensor(v) ? ops.clone(v) : v;
  return out;
}

function describeState(x: unknown): string {
  if (Array.isArray(x)) return `an array of ${x.length} (a chain state?)`;
  if (typeof x === 'object' && x !== null) return `an object with keys ${Object.keys(x).join(', ')}`;
  return String(x);
}
