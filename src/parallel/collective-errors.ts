import { RxKerasError } from '../core/errors.js';

/** The operations of a `Collective`, as error messages name them. */
export type CollectiveOp = 'rendezvous' | 'all-reduce' | 'reduce-scatter' | 'all-gather' | 'broadcast' | 'barrier' | 'close';

/** A collective operation failed on this member (`rank`); subclasses say why. */
export class CollectiveError extends RxKerasError {
  constructor(
    readonly op: CollectiveOp,
    readonly rank: number,
    message: string,
  ) {
    super(`rank ${rank}, ${op}: ${message}`);
  }
}

/**
 * Other members were lost during an operation: killed, hung, unreachable, or
 * gone (closed the group or exited). `lostRank` is the first of `lostRanks`.
 */
export class LostRankError extends CollectiveError {
  constructor(
    op: CollectiveOp,
    rank: number,
    readonly lostRanks: readonly number[],
    message: string,
  ) {
    super(op, rank, message);
  }
  get lostRank(): number {
    return this.lostRanks[0];
  }
}

/** An operation did not complete within the group's timeout, and every peer still answers. */
export class CollectiveTimeoutError extends CollectiveError {
  constructor(
    op: CollectiveOp,
    rank: number,
    readonly timeoutMs: number,
    message: string,
  ) {
    super(op, rank, message);
  }
}

/** The group was closed, or failed earlier and can no longer be used. */
export class CollectiveClosedError extends CollectiveError {}

/** Joining the group failed: members that did not come (`missingRanks`), or a store that cannot be reached. */
export class RendezvousError extends CollectiveError {
  constructor(
    rank: number,
    readonly missingRanks: readonly number[],
    message: string,
  ) {
    super('rendezvous', rank, message);
  }
}

/** A distributed run was asked for, but the optional Gloo addon is not built; the message says what to install. */
export class GlooUnavailableError extends RxKerasError {}
