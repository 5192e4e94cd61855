import * as ops from '../ops/index.js';
import type { MeanState } from '../metrics/index.js';
import type { Compiled } from './compile.js';
import type { StepResult } from './steps.js';
import type { Batch, Logs } from './types.js';
import { batchRowCount } from './rows-batch.js';

/**
 * Running epoch averages, as Keras's progress bar and History show them:
 * the loss (and each output's loss) averaged over samples, and each
 * metric's streaming result.
 */
export class EpochLogs {
  private lossSum = 0;
  private outputLossSums: number[];
  private samples = 0;
  private metricStates: MeanState[];

  constructor(
    private readonly compiled: Compiled,
    private readonly outputNames: string[],
  ) {
    this.outputLossSums = outputNames.map(() => 0);
    this.metricStates = compiled.metrics.map((m) => m.metric.init());
  }

  /** Adds one batch (the whole batch when `result` has its targets); returns its rows; disposes nothing (the caller owns `result` and `batch`). */
  update(batch: Batch, result: StepResult): number {
    // Read only where a metric needs them: a batch's targets may be gathered when first read (see rowsBatch).
    const targets = result.targets ?? batch;
    const n = result.targets ? result.targets.rows : batchRowCount(batch);
    this.samples += n;
    this.lossSum += result.loss.dataSync()[0] * n;
    if (this.outputNames.length > 1) result.outputLosses.forEach((l, i) => (this.outputLossSums[i] += l.dataSync()[0] * n));
    this.compiled.metrics.forEach((m, i) => {
      // As in Keras, only weighted metrics see the sample (and class) weights.
      const weights = m.weighted ? (targets.sampleWeight?.[m.output] ?? null) : null;
      this.metricStates[i] = m.metric.update(this.metricStates[i], targets.y[m.output], result.predictions[m.output], weights);
    });
    return n;
  }

  result(prefix = ''): Logs {
    const logs: Logs = { [`${prefix}loss`]: this.lossSum / Math.max(1, this.samples) };
    if (this.outputNames.length > 1)
      this.outputNames.forEach((name, i) => (logs[`${prefix}${name}_loss`] = this.outputLossSums[i] / Math.max(1, this.samples)));
    this.compiled.metrics.forEach((m, i) => (logs[`${prefix}${m.name}`] = m.metric.result(this.metricStates[i])));
    return logs;
  }
}

export function disposeStepResult(r: StepResult): void {
  const targets = r.targets ? [...r.targets.y, ...(r.targets.sampleWeight ?? [])].filter((t): t is ops.Tensor => t !== null) : [];
  ops.dispose([r.loss, ...r.outputLosses, ...r.predictions, ...new Set(targets)]);
}
