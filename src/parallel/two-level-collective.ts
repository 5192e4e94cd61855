import { InvalidArgumentError } from '../core/errors.js';
import type { Collective, SharedCollective } from './collective.js';

/**
 * The worker replicas of several processes as one group (processes x
 * replicas), in two levels as NCCL's and Horovod's hierarchical all-reduce:
 * `local` joins the replicas of this process in shared memory, `cross`
 * joins the replicas with the same local rank in every process (one Gloo
 * group per local rank). A reduce-scatter sums each range among this
 * process's replicas, then its owner all-reduces that range across the
 * processes, so each range crosses the network once per process and the
 * sharded update (see Replica) runs on the whole group's sum; the
 * all-gather stays local. Every process must hold the same number of
 * replicas. Global rank = process rank x replicas + local rank.
 */
export class TwoLevelCollective implements SharedCollective {
  readonly rank: number;
  readonly size: number;

  constructor(
    private readonly local: SharedCollective,
    private readonly cross: Collective,
  ) {
    this.rank = cross.rank * local.size + local.rank;
    this.size = cross.size * local.size;
  }

  get localRank(): number {
    return this.local.localRank;
  }

  get localSize(): number {
    return this.local.localSize;
  }

  slot(length: number): Float32Array {
    return this.local.slot(length);
  }

  async reduceScatter(length: number, bounds: readonly number[]): Promise<Float32Array> {
    const mine = await this.local.reduceScatter(length, bounds);
    await this.cross.allReduce(mine);
    return mine;
  }

  allGather(length: number): Promise<Float32Array> {
    return this.local.allGather(length);
  }

  /** The local sum, then the cross-process sum on every replica (each local rank's group carries the whole buffer: used with one replica per process). */
  async allReduce(buffer: Float32Array): Promise<void> {
    await this.local.allReduce(buffer);
    await this.cross.allReduce(buffer);
  }

  /** The root's process receives it across processes (in the root's local-rank group), then shares it locally. */
  async broadcast(buffer: Float32Array, root: number): Promise<void> {
    if (!Number.isInteger(root) || root < 0 || root >= this.size) throw new InvalidArgumentError('broadcast root', `an integer in [0, ${this.size})`, root);
    const [process, localRoot] = [Math.floor(root / this.local.size), root % this.local.size];
    if (this.local.rank === localRoot) await this.cross.broadcast(buffer, process);
    await this.local.broadcast(buffer, localRoot);
  }

  async barrier(): Promise<void> {
    await this.local.barrier();
    await this.cross.barrier();
    await this.local.barrier();
  }

  async close(): Promise<void> {
    await Promise.all([this.local.close(), this.cross.close()]);
  }
}
