import fs from 'node:fs';
import nodePath from 'node:path';
import { Observable } from 'rxjs';
import { InvalidArgumentError, RxKerasError } from '../core/errors.js';
import { cloneTree, disposeTree } from '../core/tree.js';
import { disposeContents, modelFileContents, modelSlots, writeModelFile, writeWeightsFile } from '../io/index.js';
import type { Compiled } from '../training/compile.js';
import type { Callback, FitEvent } from '../training/events.js';
import type { Module } from '../training/module.js';
import type { Logs, TrainState } from '../training/types.js';
import { printLine, warnLine } from './callback-operator.js';
import { pyFormat, pyPercent, type PyNumber } from './python-format.js';

export interface ModelCheckpointOptions {
  /** The log that `saveBestOnly` compares (default 'val_loss'). */
  monitor?: string;
  /** 1 prints every save (default 0). */
  verbose?: number;
  /** Save only when the monitored log improves on the best so far (default false). */
  saveBestOnly?: boolean;
  /** Save the weights only (`model.save_weights`) instead of the whole model (`model.save`) (default false). */
  saveWeightsOnly?: boolean;
  /** 'min', 'max', or 'auto' (default): max when the name contains 'acc' or starts with 'fmeasure'. */
  mode?: 'auto' | 'min' | 'max';
  /** 'epoch' (default): at every epoch end; a number n: every n batches (counted across epochs). */
  saveFreq?: 'epoch' | number;
  /** With `saveBestOnly`, the value to beat at first (default: none). */
  initialValueThreshold?: number;
  print?: (line: string) => void;
  warn?: (line: string) => void;
}

/** A save of the model as it was at one event, written later. */
interface Pending {
  write(path: string): Promise<void>;
  dispose(): void;
}

/**
 * Keras's `ModelCheckpoint`: saves the model (HDF5, `saveModel`) or its
 * weights (`saveWeights`) at the end of every epoch, or every `saveFreq`
 * batches. `filepath` is a Python format template filled with `epoch`
 * (1-based), `batch` (1-based, batch saves) and the logs:
 * `weights.{epoch:02d}-{val_loss:.2f}.h5`.
 *
 * The weights written are those of the event that names the file: they are
 * cloned when it is handled (events only lend them) and written in order
 * while training goes on. Every write is atomic (a temporary file renamed
 * over the target), so a save that fails or is interrupted leaves the
 * previous checkpoint as it was. The stream completes, or fails with the
 * training's error, only after the saves already begun are on disk; a save
 * that fails ends the fit with its error.
 */
export function ModelCheckpoint(filepath: string, options: ModelCheckpointOptions = {}): Callback {
  const monitor = options.monitor ?? 'val_loss';
  const verbose = options.verbose ?? 0;
  const saveBestOnly = options.saveBestOnly ?? false;
  const saveWeightsOnly = options.saveWeightsOnly ?? false;
  const mode = options.mode ?? 'auto';
  const saveFreq = options.saveFreq ?? 'epoch';
  const print = options.print ?? printLine;
  const warn = options.warn ?? warnLine;
  if (typeof filepath !== 'string' || filepath === '') throw new InvalidArgumentError('ModelCheckpoint filepath', 'a file path or template', filepath);
  if (!['auto', 'min', 'max'].includes(mode)) throw new InvalidArgumentError('ModelCheckpoint mode', "'auto', 'min' or 'max'", mode);
  if (saveFreq !== 'epoch' && !(Number.isInteger(saveFreq) && saveFreq > 0))
    throw new InvalidArgumentError('ModelCheckpoint saveFreq', "'epoch' or a positive integer (a number of batches)", saveFreq);
  const greater = mode === 'max' || (mode === 'auto' && (monitor.includes('acc') || monitor.startsWith('fmeasure')));
  const initialBest = options.initialValueThreshold ?? (greater ? -Infinity : Infinity);
  const improves = (a: number, b: number) => (greater ? a > b : a < b);

  return (source) =>
    new Observable<FitEvent>((subscriber) => {
      let model: { module: Module; compiled: Compiled } | undefined;
      let best = initialBest;
      let batchesSinceSave = 0;
      let lastBatchSeen = -1;
      let queue: Promise<void> = Promise.resolve();
      let failed = false;

      const write = (pending: Pending, path: string) => {
        queue = queue.then(async () => {
          try {
            if (failed) return;
            fs.mkdirSync(nodePath.dirname(path), { recursive: true });
            await pending.write(path);
          } catch (error) {
            if (!failed) {
              failed = true;
              subscriber.error(error);
            }
          } finally {
            pending.dispose();
          }
        });
      };

      /** Decides whether to save at this event; clones the weights now and returns what to print and write. */
      const plan = (epoch: number, batch: number | undefined, logs: Logs, train: TrainState): { message?: string; path?: string; pending?: Pending } => {
        if (!model) throw new RxKerasError('ModelCheckpoint: no model to save (the stream had no fitStart event)');
        const path = filePath(filepath, epoch, batch, logs);
        const take = () => snapshot(model!.module, model!.compiled, train, !saveWeightsOnly);
        if (!saveBestOnly) return { message: `Epoch ${epoch + 1}: saving model to ${path}`, path, pending: take() };
        const current = logs[monitor];
        if (current === undefined) {
          warn(`Can save best model only with ${monitor} available, skipping.`);
          return {};
        }
        if (!improves(current, best)) return { message: `Epoch ${epoch + 1}: ${monitor} did not improve from ${pyPercent(best, '.5f')}` };
        const message = `Epoch ${epoch + 1}: ${monitor} improved from ${pyPercent(best, '.5f')} to ${pyPercent(current, '.5f')}, saving model to ${path}`;
        best = current;
        return { message, path, pending: take() };
      };

      const shouldSaveOnBatch = (batch: number) => {
        if (saveFreq === 'epoch') return false;
        batchesSinceSave += batch <= lastBatchSeen ? batch + 1 : batch - lastBatchSeen; // a new epoch restarts batch numbers
        lastBatchSeen = batch;
        if (batchesSinceSave < saveFreq) return false;
        batchesSinceSave = 0;
        return true;
      };

      const subscription = source.subscribe({
        next: (e) => {
          let step: ReturnType<typeof plan> = {};
          try {
            if (e.type === 'fitStart') model = { module: e.module, compiled: e.compiled };
            if (e.type === 'epochEnd' && saveFreq === 'epoch') step = plan(e.epoch, undefined, e.logs, e.train);
            if (e.type === 'batchEnd' && shouldSaveOnBatch(e.batch)) step = plan(e.epoch, e.batch, e.logs, e.train);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          if (step.pending && step.path) write(step.pending, step.path);
          subscriber.next(e);
          if (verbose > 0 && step.message) print(step.message);
        },
        // Let the saves already begun finish (the last checkpoint stays whole), then end as the source did.
        error: (error) => void queue.then(() => subscriber.error(error)),
        complete: () => void queue.then(() => subscriber.complete()),
      });
      return () => subscription.unsubscribe();
    });
}

/** The file name for a save: Keras's `filepath.format(epoch=epoch + 1, [batch=batch + 1,] **logs)`. */
export function filePath(template: string, epoch: number, batch: number | undefined, logs: Logs): string {
  const fields: Record<string, PyNumber> = {};
  for (const [k, v] of Object.entries(logs)) fields[k] = { value: v, int: false };
  fields.epoch = { value: epoch + 1, int: true };
  if (batch !== undefined && !('batch' in logs)) fields.batch = { value: batch + 1, int: true };
  return pyFormat(template, fields, 'ModelCheckpoint filepath');
}

/**
 * The model as it is at this event, for a save written later: clones of
 * the lent weights (and, for a whole-model save, of the optimizer state),
 * written as values through io.
 */
function snapshot(module: Module, compiled: Compiled, train: TrainState, withOptimizer: boolean): Pending {
  const variables = cloneTree({ params: train.params, state: train.state });
  const optState = withOptimizer ? cloneTree(train.optState) : undefined;
  return {
    write: async (path) => {
      if (!withOptimizer) return writeWeightsFile(path, modelSlots(module, variables));
      const contents = modelFileContents(module, variables, { compiled, optState });
      try {
        await writeModelFile(path, contents);
      } finally {
        disposeContents(contents);
      }
    },
    dispose: () => disposeTree([variables, optState]),
  };
}
