/**
 * Where a replica's training steps spent their time, in ms summed over
 * `steps` steps (read with ParallelModel.stepPhases). What the steps' wall
 * time holds beyond the four is spent outside them: waiting for the next
 * batch, and the epochs' ends.
 */
export interface StepPhases {
  /** Steps taken since the last read. */
  steps: number;
  /** The gradient step on the replica's shard (a staged step's that was cancelled included). */
  gradients: number;
  /** A staged step's wait for the main thread's go-ahead, its gradients done. */
  goAhead: number;
  /** Summing the gradients with the other replicas and sharing the weights back, waits for the slower replica included. */
  exchange: number;
  /** The optimizer's update: this replica's range of the weights, or all of them (with two replicas updating in place, the sum of their gradients over the range too, which it makes as it reads them). */
  update: number;
}

export type Phase = Exclude<keyof StepPhases, 'steps'>;

const none = (): StepPhases => ({ steps: 0, gradients: 0, goAhead: 0, exchange: 0, update: 0 });

/** Sums a replica's phase times until they are taken. */
export class PhaseClock {
  private totals = none();

  /** Adds the time since `since` (a performance.now() reading), less `less` ms counted in another phase, to `phase`; returns now. */
  add(phase: Phase, since: number, less = 0): number {
    const now = performance.now();
    this.totals[phase] += now - since - less;
    return now;
  }

  /** The ms summed in `phase` so far. */
  sum(phase: Phase): number {
    return this.totals[phase];
  }

  stepped(): void {
    this.totals.steps++;
  }

  /** The sums since the last call, which start again from zero. */
  take(): StepPhases {
    const taken = this.totals;
    this.totals = none();
    return taken;
  }
}
