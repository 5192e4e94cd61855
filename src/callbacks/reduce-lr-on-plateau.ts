import { InvalidArgumentError } from '../core/errors.js';
import type { Callback } from '../training/events.js';
import { callbackOperator, printLine, warnLine } from './callback-operator.js';
import { formatSpec, pyRepr } from './python-format.js';

export interface ReduceLROnPlateauOptions {
  /** The log to watch (default 'val_loss'). */
  monitor?: string;
  /** The learning rate is multiplied by this (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  /** 1 prints each reduction (default 0). */
  verbose?: number;
  /** 'min', 'max', or 'auto' (default): max when the name contains 'acc'. */
  mode?: 'auto' | 'min' | 'max';
  /** The smallest change that counts as an improvement (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** The learning rate never goes below this (default 0). */
  minLr?: number;
  print?: (line: string) => void;
  warn?: (line: string) => void;
}

/**
 * Keras's `ReduceLROnPlateau`: when the monitored log has not improved for
 * `patience` epochs, multiplies the learning rate by `factor` (not below
 * `minLr`), then waits `cooldown` epochs. The learning rate is changed
 * through `control.setLearningRate`, between epochs. Like Keras it adds the
 * learning rate at the end of each epoch to the logs as `lr`.
 */
export function ReduceLROnPlateau(options: ReduceLROnPlateauOptions = {}): Callback {
  const monitor = options.monitor ?? 'val_loss';
  const factor = options.factor ?? 0.1;
  const patience = options.patience ?? 10;
  const verbose = options.verbose ?? 0;
  const mode = options.mode ?? 'auto';
  const minDelta = options.minDelta ?? 1e-4;
  const cooldown = options.cooldown ?? 0;
  const minLr = options.minLr ?? 0;
  const print = options.print ?? printLine;
  const warn = options.warn ?? warnLine;
  if (!(factor < 1)) throw new InvalidArgumentError('ReduceLROnPlateau factor', 'a number < 1.0 (ReduceLROnPlateau does not support a factor >= 1.0)', factor);
  if (!['auto', 'min', 'max'].includes(mode)) throw new InvalidArgumentError('ReduceLROnPlateau mode', "'auto', 'min' or 'max'", mode);
  if (!Number.isInteger(patience) || patience < 0) throw new InvalidArgumentError('ReduceLROnPlateau patience', 'an integer >= 0', patience);
  if (!Number.isInteger(cooldown) || cooldown < 0) throw new InvalidArgumentError('ReduceLROnPlateau cooldown', 'an integer >= 0', cooldown);
  const lower = mode === 'min' || (mode === 'auto' && !monitor.includes('acc'));
  const better = (a: number, b: number) => (lower ? a < b - minDelta : a > b + minDelta);
  // Keras compares the float32 learning-rate variable with np.float32(min_lr).
  const minLr32 = Math.fround(minLr);

  return callbackOperator(() => {
    let best = lower ? Infinity : -Infinity;
    let wait = 0;
    let cooldownCounter = 0;
    let reduceTo: number | undefined;
    return {
      before(e) {
        if (e.type !== 'epochEnd') return;
        const lr = e.control.getLearningRate();
        const logs = { ...e.logs, lr };
        const current = e.logs[monitor];
        if (current === undefined) {
          warn(`Learning rate reduction is conditioned on metric \`${monitor}\` which is not available. Available metrics are: ${Object.keys(logs).join(',')}`);
          return { ...e, logs };
        }
        if (cooldownCounter > 0) {
          cooldownCounter -= 1;
          wait = 0;
        }
        if (better(current, best)) {
          best = current;
          wait = 0;
        } else if (cooldownCounter === 0) {
          wait += 1;
          if (wait >= patience && Math.fround(lr) > minLr32) {
            reduceTo = Math.max(lr * factor, minLr);
            cooldownCounter = cooldown;
            wait = 0;
          }
        }
        return { ...e, logs };
      },
      after(e) {
        if (e.type !== 'epochEnd' || reduceTo === undefined) return;
        const lr = reduceTo;
        reduceTo = undefined;
        e.control.setLearningRate(lr);
        if (verbose > 0) print(`Epoch ${formatSpec({ value: e.epoch + 1, int: true }, '05d')}: ReduceLROnPlateau reducing learning rate to ${pyRepr(lr)}.`);
      },
    };
  });
}
