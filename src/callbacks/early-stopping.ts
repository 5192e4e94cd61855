import { InvalidArgumentError } from '../core/errors.js';
import { cloneTree, disposeTree, type TensorTree } from '../core/tree.js';
import type { Callback } from '../training/events.js';
import { callbackOperator, printLine, warnLine } from './callback-operator.js';

export interface EarlyStoppingOptions {
  /** The log to watch (default 'val_loss'). */
  monitor?: string;
  /** The smallest change that counts as an improvement (default 0; its sign is ignored). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** 1 prints when it stops and restores (default 0). */
  verbose?: number;
  /** 'min', 'max', or 'auto' (default): max for names ending in acc, accuracy or auc. */
  mode?: 'auto' | 'min' | 'max';
  /** Training stops unless the monitored value beats this (default none). */
  baseline?: number | null;
  /** On stopping, go back to the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
  /** Epochs to wait before watching (warm-up; default 0). */
  startFromEpoch?: number;
  /** Where messages go (default stdout). */
  print?: (line: string) => void;
  /** Where warnings go (default stderr). */
  warn?: (line: string) => void;
}

/**
 * Keras's `EarlyStopping` (tf.keras 2.15 semantics): stops training when the
 * monitored log has stopped improving for `patience` epochs. It asks the loop
 * to stop through `control.stop()`; the loop then ends the fit, emits
 * `fitEnd` and completes the stream, so `fit` resolves with the History.
 *
 * With `restoreBestWeights` the weights of the best epoch are cloned when
 * that epoch ends (events only lend them) and, when training stops early,
 * handed to `control.setWeights`. As in tf.keras 2, they are not restored
 * when training runs to its last epoch.
 */
export function EarlyStopping(options: EarlyStoppingOptions = {}): Callback {
  const monitor = options.monitor ?? 'val_loss';
  const patience = options.patience ?? 0;
  const verbose = options.verbose ?? 0;
  const mode = options.mode ?? 'auto';
  const baseline = options.baseline ?? null;
  const restore = options.restoreBestWeights ?? false;
  const startFromEpoch = options.startFromEpoch ?? 0;
  const print = options.print ?? printLine;
  const warn = options.warn ?? warnLine;
  if (!['auto', 'min', 'max'].includes(mode)) throw new InvalidArgumentError('EarlyStopping mode', "'auto', 'min' or 'max'", mode);
  if (!Number.isInteger(patience) || patience < 0) throw new InvalidArgumentError('EarlyStopping patience', 'an integer >= 0', patience);
  if (!Number.isFinite(options.minDelta ?? 0)) throw new InvalidArgumentError('EarlyStopping minDelta', 'a finite number', options.minDelta);
  const greater = mode === 'max' || (mode === 'auto' && /(acc|accuracy|auc)$/.test(monitor));
  const minDelta = Math.abs(options.minDelta ?? 0) * (greater ? 1 : -1);
  const isImprovement = (value: number, reference: number) => (greater ? value - minDelta > reference : value - minDelta < reference);

  return callbackOperator(() => {
    let wait = 0;
    let stoppedEpoch = 0;
    let best = greater ? -Infinity : Infinity;
    let bestEpoch = 0;
    let bestWeights: { params: TensorTree; state: TensorTree } | undefined;
    const release = () => {
      if (bestWeights) {
        disposeTree(bestWeights.params);
        disposeTree(bestWeights.state);
        bestWeights = undefined;
      }
    };
    let stopNow = false;
    return {
      before(e) {
        if (e.type !== 'epochEnd') return;
        const current = e.logs[monitor];
        if (current === undefined) {
          warn(`Early stopping conditioned on metric \`${monitor}\` which is not available. Available metrics are: ${Object.keys(e.logs).join(',')}`);
          return;
        }
        if (e.epoch < startFromEpoch) return;
        const improved = isImprovement(current, best);
        // The weights are lent by the event: clone them now, before anyone downstream replaces them.
        if (restore && (improved || !bestWeights)) {
          release();
          bestWeights = { params: cloneTree(e.train.params), state: cloneTree(e.train.state) };
        }
        wait += 1;
        if (improved) {
          best = current;
          bestEpoch = e.epoch;
          // Only restart wait if we beat both the baseline and our previous best.
          if (baseline === null || isImprovement(current, baseline)) wait = 0;
          return;
        }
        if (wait >= patience && e.epoch > 0) {
          stoppedEpoch = e.epoch;
          stopNow = true;
        }
      },
      after(e) {
        if (e.type === 'epochEnd' && stopNow) {
          stopNow = false;
          e.control.stop();
          if (restore && bestWeights) {
            if (verbose > 0) print(`Restoring model weights from the end of the best epoch: ${bestEpoch + 1}.`);
            const { params, state } = bestWeights;
            bestWeights = undefined; // the loop owns them now
            e.control.setWeights(params, state);
          }
        }
        if (e.type === 'fitEnd' && stoppedEpoch > 0 && verbose > 0) print(`Epoch ${stoppedEpoch + 1}: early stopping`);
      },
      teardown: release,
    };
  });
}
