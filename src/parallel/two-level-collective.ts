import { InvalidArgumentError } from '../core/errors.js';
import { allReduceCopy, overlapsSlot, type Collective, type SharedCollective } from './collective.js';
import { LostRankError } from './collective-errors.js';

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
 * replicas. Global rank = process rank x replicas + local rank. The same
 * shape joins the processes of several hosts: `local` their host memory,
 * `cross` the processes of the same local rank on every host (see
 * GlooCollective).
 */
export class TwoLevelCollective implements SharedCollective {
  readonly rank: number;
  readonly size: number;
  readonly capacity: number;
  /** The local group's update regions: each member updates its range in place after the reduce-scatter summed it everywhere. */
  readonly inPlace: SharedCollective['inPlace'];

  /**
   * With `explain`, a member lost in either tier is reported as it says
   * (the processes of several hosts name it by its global rank).
   */
  constructor(
    private readonly local: SharedCollective,
    private readonly cross: Collective,
    private readonly explain?: (tier: 'local' | 'cross', lost: LostRankError) => Promise<Error>,
  ) {
    this.rank = cross.rank * local.size + local.rank;
    this.size = cross.size * local.size;
    this.capacity = local.capacity;
    this.inPlace = local.inPlace;
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
    const mine = await this.named('local', this.local.reduceScatter(length, bounds));
    await this.named('cross', this.cross.allReduce(mine));
    return mine;
  }

  allGather(length: number): Promise<Float32Array> {
    return this.named('local', this.local.allGather(length));
  }

  /**
   * Reduce-scatter, then all-gather, a chunk of up to `capacity` floats at a
   * time: each range crosses the network once per process (from its local
   * owner), not once per local member.
   */
  async allReduce(buffer: Float32Array): Promise<void> {
    if (overlapsSlot(buffer, this.local.slot(this.capacity))) return allReduceCopy(buffer, (copy) => this.allReduce(copy));
    const n = this.local.localSize;
    for (let start = 0; start < buffer.length; start += this.capacity) {
      const length = Math.min(this.capacity, buffer.length - start);
      const part = buffer.subarray(start, start + length);
      const slot = this.local.slot(length);
      if (part.buffer !== slot.buffer || part.byteOffset !== slot.byteOffset) slot.set(part);
      await this.reduceScatter(length, Array.from({ length: n + 1 }, (_, i) => Math.floor((i * length) / n)));
      part.set(await this.allGather(length));
    }
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

  private async named<T>(tier: 'local' | 'cross', operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch (e) {
      throw this.explain && e instanceof LostRankError ? await this.explain(tier, e) : e;
    }
  }
}
