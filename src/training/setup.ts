import { NotCompiledError } from '../core/errors.js';
import { disposeReplaced, fromLeaves, leaves } from '../core/tree.js';
import type { Module } from './module.js';
import type { TrainingSetup, TrainState, Variables } from './types.js';

/** The compiled setup, or a NotCompiledError naming what needed it. */
export function requireSetup(setup: TrainingSetup | undefined, what: string): TrainingSetup {
  if (!setup) throw new NotCompiledError(what);
  return setup;
}

/**
 * The training state to continue from: the variables with the setup's
 * optimizer state, step and key. The optimizer state is made anew (the old
 * one disposed) when the trainable set changed since it was made; the
 * returned setup is the one to keep.
 */
export function startState(module: Module, setup: TrainingSetup, variables: Variables): { state: TrainState; setup: TrainingSetup } {
  const trainable = module.trainablePaths(variables.params);
  const paths = [...trainable].join('|');
  let next = setup;
  if (setup.optState === undefined || setup.optPaths !== paths) {
    disposeReplaced(setup.optState, undefined);
    const optState = setup.compiled.optimizer.init(fromLeaves(leaves(variables.params).filter(([p]) => trainable.has(p))));
    next = { ...setup, optState, optPaths: paths };
  }
  return { state: { params: variables.params, state: variables.state, optState: next.optState, step: next.step, key: next.key }, setup: next };
}

/** The setup after training reached `state`: its optimizer state and step. */
export function commitSetup(setup: TrainingSetup, state: TrainState): TrainingSetup {
  return { ...setup, optState: state.optState, step: state.step };
}
