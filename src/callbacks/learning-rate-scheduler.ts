import { InvalidArgumentError } from '../core/errors.js';
import type { Callback } from '../training/events.js';
import { callbackOperator, printLine } from './callback-operator.js';
import { pyRepr } from './python-format.js';

/** Keras's schedule: the learning rate for `epoch` (0-based), given the current one. */
export type EpochSchedule = (epoch: number, lr: number) => number;

export interface LearningRateSchedulerOptions {
  /** 1 prints the learning rate set at each epoch (default 0). */
  verbose?: number;
  print?: (line: string) => void;
}

/**
 * Keras's `LearningRateScheduler`: at the start of every epoch sets the
 * learning rate to `schedule(epoch, lr)` through `control.setLearningRate`;
 * at its end adds the learning rate to the logs as `lr`. A schedule that
 * returns something other than a finite number ends the fit with an
 * InvalidArgumentError.
 */
export function LearningRateScheduler(schedule: EpochSchedule, options: LearningRateSchedulerOptions = {}): Callback {
  if (typeof schedule !== 'function') throw new InvalidArgumentError('LearningRateScheduler schedule', 'a function (epoch, lr) => number', schedule);
  const verbose = options.verbose ?? 0;
  const print = options.print ?? printLine;
  return callbackOperator(() => ({
    before(e) {
      if (e.type === 'epochEnd') return { ...e, logs: { ...e.logs, lr: e.control.getLearningRate() } };
    },
    after(e) {
      if (e.type !== 'epochStart') return;
      const lr: unknown = schedule(e.epoch, e.control.getLearningRate());
      if (typeof lr !== 'number' || !Number.isFinite(lr))
        throw new InvalidArgumentError(`LearningRateScheduler schedule(${e.epoch}, lr)`, 'a finite number (the output of the "schedule" function should be float)', lr);
      e.control.setLearningRate(lr);
      if (verbose > 0) print(`Epoch ${e.epoch + 1}: LearningRateScheduler setting learning rate to ${pyRepr(lr)}.`);
    },
  }));
}
