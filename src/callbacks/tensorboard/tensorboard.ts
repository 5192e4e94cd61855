import path from 'node:path';
import { InvalidArgumentError } from '../../core/errors.js';
import { leaves, type TensorTree } from '../../core/tree.js';
import { toJSON } from '../../io/model-to-config.js';
import type { Callback } from '../../training/events.js';
import type { Logs } from '../../training/types.js';
import { callbackOperator } from '../callback-operator.js';
import { EventWriter } from './event-writer.js';
import { histogram, kerasModel, scalar, text, type SummaryValue } from './summary-values.js';

export interface TensorBoardOptions {
  /** Where the event files go: `<logDir>/train` and `<logDir>/validation` (default 'logs'). */
  logDir?: string;
  /** Weight histograms every this many epochs (default 0: none). */
  histogramFreq?: number;
  /** The model's graph (Graphs dashboard) and its config as text (Text dashboard), once at the start (default true). */
  writeGraph?: boolean;
  /** 'epoch' (default): scalars per epoch; 'batch': also per batch; N: also every N batches. */
  updateFreq?: 'epoch' | 'batch' | number;
}

/**
 * Keras's `TensorBoard` callback: event files that TensorBoard reads, as
 * tf.keras 2 writes them. Per epoch, `epoch_<log>` scalars at step `epoch`,
 * under `train/` and (the `val_` logs, prefix dropped) `validation/`, and
 * `epoch_learning_rate`; per batch with `updateFreq`, `batch_<log>` at the
 * global batch number; every `histogramFreq` epochs a histogram of every
 * weight (`<layer>/<weight>_0`); at the start, the model (`keras`, for the
 * Graphs dashboard) and its config as text (`model_config`). Files are
 * written through as training runs, and closed however the stream ends.
 */
export function TensorBoard(options: TensorBoardOptions = {}): Callback {
  const logDir = options.logDir ?? 'logs';
  const histogramFreq = options.histogramFreq ?? 0;
  const writeGraph = options.writeGraph ?? true;
  const updateFreq = options.updateFreq ?? 'epoch';
  if (typeof logDir !== 'string' || logDir === '') throw new InvalidArgumentError('TensorBoard logDir', 'a folder path', logDir);
  if (!(Number.isInteger(histogramFreq) && histogramFreq >= 0)) throw new InvalidArgumentError('TensorBoard histogramFreq', 'an integer >= 0', histogramFreq);
  if (!(updateFreq === 'epoch' || updateFreq === 'batch' || (Number.isInteger(updateFreq) && updateFreq >= 1)))
    throw new InvalidArgumentError('TensorBoard updateFreq', "'epoch', 'batch' or an integer >= 1", updateFreq);
  const batchEvery = updateFreq === 'epoch' ? 0 : updateFreq === 'batch' ? 1 : updateFreq;

  return callbackOperator(() => {
    let train: EventWriter | undefined;
    let validation: EventWriter | undefined;
    // Global batch numbers: the last batch seen, and the first of the epoch (with steps_per_execution the batch events skip some).
    let seen = -1;
    let epochFirst = 0;
    const close = () => {
      train?.close();
      validation?.close();
      train = validation = undefined;
    };
    return {
      before(e) {
        if (e.type === 'fitStart') {
          close();
          train = new EventWriter(path.join(logDir, 'train'));
          seen = e.params.initialEpoch * (e.params.steps ?? 0) - 1;
          if (writeGraph) {
            const json = toJSON(e.module);
            train.write(0, [kerasModel(json), text('model_config', fence(toJSON(e.module, 2)))]);
          }
        }
        if (e.type === 'epochStart') epochFirst = seen + 1;
        if (e.type === 'batchEnd' && batchEvery > 0) {
          // Written at every multiple of batchEvery, or at the first batch event past one.
          const batch = epochFirst + e.batch;
          if (Math.floor(batch / batchEvery) > Math.floor(seen / batchEvery)) train?.write(batch, scalars('batch_', e.logs));
        }
        if (e.type === 'batchEnd') seen = epochFirst + e.batch;
        if (e.type === 'epochEnd') {
          const trainLogs = Object.fromEntries(Object.entries(e.logs).filter(([k]) => !k.startsWith('val_')));
          const valLogs = Object.fromEntries(Object.entries(e.logs).flatMap(([k, v]) => (k.startsWith('val_') ? [[k.slice(4), v]] : [])));
          const values = [...scalars('epoch_', trainLogs), scalar('epoch_learning_rate', e.control.getLearningRate())];
          if (histogramFreq > 0 && e.epoch % histogramFreq === 0) values.push(...histograms(e.train.params), ...histograms(e.train.state));
          train?.write(e.epoch, values);
          if (Object.keys(valLogs).length > 0) {
            validation ??= new EventWriter(path.join(logDir, 'validation'));
            validation.write(e.epoch, scalars('epoch_', valLogs));
          }
        }
        if (e.type === 'fitEnd') close();
      },
      teardown: close,
    };
  });
}

const scalars = (prefix: string, logs: Logs): SummaryValue[] => Object.entries(logs).map(([k, v]) => scalar(prefix + k, v));

/** One histogram per weight, tagged as tf.keras 2 names them: `dense/kernel:0` becomes `dense/kernel_0`. */
const histograms = (tree: TensorTree): SummaryValue[] => leaves(tree).map(([p, t]) => histogram(`${p}_0`, t.dataSync()));

/** JSON as a Markdown code block, so that the Text dashboard shows it as written. */
const fence = (json: string): string => `\`\`\`json\n${json}\n\`\`\``;
