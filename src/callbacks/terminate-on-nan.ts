import type { Callback } from '../training/events.js';
import { callbackOperator, printLine } from './callback-operator.js';

export interface TerminateOnNaNOptions {
  print?: (line: string) => void;
}

/**
 * Keras's `TerminateOnNaN`: when a batch ends with a NaN or infinite loss,
 * prints `Batch N: Invalid loss, terminating training` and stops training
 * (`control.stop()`): as in tf.keras 2, no further batch runs, the epoch
 * ends with the logs so far, and the fit completes.
 */
export function TerminateOnNaN(options: TerminateOnNaNOptions = {}): Callback {
  const print = options.print ?? printLine;
  return callbackOperator(() => ({
    after(e) {
      if (e.type !== 'batchEnd') return;
      const loss = e.logs.loss;
      if (loss !== undefined && !Number.isFinite(loss)) {
        print(`Batch ${e.batch}: Invalid loss, terminating training`);
        e.control.stop();
      }
    },
  }));
}
