import type { Callback, FitEvent } from '../training/events.js';
import type { Logs } from '../training/types.js';
import { callbackOperator } from './callback-operator.js';

type Of<T extends FitEvent['type']> = Extract<FitEvent, { type: T }>;

/**
 * Keras's `LambdaCallback` hooks. Each receives Keras's arguments, then the
 * event itself (with `control`, and for epoch ends the lent training
 * state: clone what you keep). Hooks run before the event is passed on.
 */
export interface LambdaCallbackHooks {
  onTrainBegin?(logs: Logs, event: Of<'fitStart'>): void;
  onEpochBegin?(epoch: number, logs: Logs, event: Of<'epochStart'>): void;
  onBatchEnd?(batch: number, logs: Logs, event: Of<'batchEnd'>): void;
  onEpochEnd?(epoch: number, logs: Logs, event: Of<'epochEnd'>): void;
  onTrainEnd?(logs: Logs, event: Of<'fitEnd'>): void;
}

/** Keras's `LambdaCallback`: a callback from plain functions; a hook that throws ends the fit with its error. */
export function LambdaCallback(hooks: LambdaCallbackHooks = {}): Callback {
  return callbackOperator(() => ({
    before(e) {
      switch (e.type) {
        case 'fitStart':
          hooks.onTrainBegin?.({}, e);
          break;
        case 'epochStart':
          hooks.onEpochBegin?.(e.epoch, {}, e);
          break;
        case 'batchEnd':
          hooks.onBatchEnd?.(e.batch, e.logs, e);
          break;
        case 'epochEnd':
          hooks.onEpochEnd?.(e.epoch, e.logs, e);
          break;
        case 'fitEnd':
          hooks.onTrainEnd?.(e.logs, e);
          break;
      }
    },
  }));
}
