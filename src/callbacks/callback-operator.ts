import { Observable } from 'rxjs';
import type { Callback, FitEvent } from '../training/events.js';

/**
 * What a callback does with each event, made fresh for each subscription
 * (each `fit`), as Keras resets a callback in `on_train_begin`.
 *
 * The order is the contract that lets callbacks compose:
 * - `before(event)` runs before the event is passed on. It may read the
 *   tensors the event lends (clone what it keeps) and may return a
 *   replacement event (new logs, such as `lr`).
 * - `after(event)` runs once every callback downstream has handled the event.
 *   Calls that replace training state (`control.setWeights`,
 *   `setLearningRate`, `stop`) belong here, so that no callback downstream
 *   sees tensors that have been replaced under it.
 * - `teardown()` runs once on completion, error or unsubscription.
 *
 * An exception from a handler ends the stream with that error.
 */
export interface CallbackHandlers {
  before?(event: FitEvent): FitEvent | void;
  after?(event: FitEvent): void;
  teardown?(): void;
}

/** A callback operator from per-subscription handlers (see CallbackHandlers). */
export function callbackOperator(setup: () => CallbackHandlers): Callback {
  return (source) =>
    new Observable<FitEvent>((subscriber) => {
      const handlers = setup();
      const subscription = source.subscribe({
        next: (event) => {
          let out = event;
          try {
            out = handlers.before?.(event) ?? event;
          } catch (error) {
            subscriber.error(error);
            return;
          }
          subscriber.next(out);
          if (subscriber.closed || !handlers.after) return;
          try {
            handlers.after(out);
          } catch (error) {
            subscriber.error(error);
          }
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        subscription.unsubscribe();
        handlers.teardown?.();
      };
    });
}

/** Keras's message printer: a line to stdout. */
export function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Keras's `logging.warning`: a line to stderr. */
export function warnLine(line: string): void {
  process.stderr.write(`WARNING: ${line}\n`);
}
