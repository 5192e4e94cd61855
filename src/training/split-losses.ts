/**
 * Losses of a batch split across members (data parallelism). A loss with
 * reduction 'sum' adds up over the parts of a batch; every other loss (the
 * Keras default averages over the batch), regularisation and layer losses
 * are the parts' means weighted by their rows. As Keras computes the loss
 * of the whole batch, so must the members together.
 */
import type { Compiled } from './compile.js';

/** How a member's loss counts toward the whole batch's: averaged parts by `mean`, summed outputs by `sum`. */
export interface LossScale {
  mean: number;
  sum: number;
}

/** Whether each output's loss sums over the batch (reduction 'sum') rather than averaging. */
export function summedOutputs(compiled: Compiled): boolean[] {
  return compiled.losses.map((l) => l.config.reduction === 'sum');
}

/**
 * A member's losses as its contributions to the whole batch's, to be added
 * up over the members: [the averaged part of the total, the summed part of
 * the total, then one per output]. Averaged values are weighted by
 * `scale.mean`, summed ones by `scale.sum`.
 */
export function lossContributions(compiled: Compiled, loss: number, outputLosses: number[], scale: LossScale): number[] {
  const summed = summedOutputs(compiled);
  const summedPart = outputLosses.reduce((s, l, i) => (summed[i] ? s + compiled.lossWeights[i] * l : s), 0);
  return [scale.mean * (loss - summedPart), scale.sum * summedPart, ...outputLosses.map((l, i) => (summed[i] ? scale.sum : scale.mean) * l)];
}

/** The whole batch's total and per-output losses from the members' added-up contributions; averaged parts are divided by `divisor` (1 when they were weighted by shares, the total rows when by rows). */
export function combinedLosses(compiled: Compiled, sums: ArrayLike<number>, divisor: number): { loss: number; outputLosses: number[] } {
  const summed = summedOutputs(compiled);
  return { loss: sums[0] / divisor + sums[1], outputLosses: summed.map((s, i) => (s ? sums[2 + i] : sums[2 + i] / divisor)) };
}
