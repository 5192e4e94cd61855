import { CollectiveError, CollectiveTimeoutError } from './collective-errors.js';

// Words of the gate's shared Int32Array.
const SEQ = 0;
const VERDICT = 1;
const ABORTED = 2;
const WORDS = 3;

const GO = 1;
const CANCEL = 2;

/**
 * The main thread's word on a staged step, in shared memory: replicas that
 * were sent the next batch ahead compute its gradients while the main
 * thread still runs the previous step's callbacks, then wait here before
 * they change any weight. The main thread says go (the state they hold is
 * still the one to train: nothing was set between the steps) or cancel
 * (they drop the gradients and take the next call). Stages are numbered;
 * one verdict is pending at a time.
 */
export class StepGate {
  private readonly words: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(WORDS * 4)) {
    this.words = new Int32Array(buffer);
  }

  /** Main thread: the verdict on stage `seq`; wakes the replicas waiting for it. */
  decide(seq: number, go: boolean): void {
    Atomics.store(this.words, VERDICT, go ? GO : CANCEL);
    Atomics.store(this.words, SEQ, seq);
    Atomics.notify(this.words, SEQ);
  }

  /** Main thread: the run is over; replicas waiting here (or later) throw. */
  abort(): void {
    Atomics.store(this.words, ABORTED, 1);
    Atomics.notify(this.words, SEQ);
  }

  /**
   * Replica (a worker thread, which may block): waits for the verdict on
   * stage `seq`, at most `timeoutMs`; true for go. Throws a CollectiveError
   * once the run is aborted (another member failed), so that the main
   * thread reports the member that caused it.
   */
  wait(seq: number, rank: number, timeoutMs: number): boolean {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (Atomics.load(this.words, ABORTED) !== 0) throw new CollectiveError('barrier', rank, 'the run was aborted while this replica waited to apply a staged step');
      const at = Atomics.load(this.words, SEQ);
      // A later stage decided means this one was passed over: the same as cancelled.
      if (at >= seq) return at === seq && Atomics.load(this.words, VERDICT) === GO;
      const left = deadline - Date.now();
      if (left <= 0) throw new CollectiveTimeoutError('barrier', rank, timeoutMs, 'the main thread gave no verdict on the staged step');
      Atomics.wait(this.words, SEQ, at, Math.min(left, 100));
    }
  }
}
