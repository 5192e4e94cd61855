/**
 * A group of replicas that combine buffers: the seam between data
 * parallelism and its transport. Shared memory between worker threads
 * implements it on one machine; Gloo over TCP between processes and hosts.
 * Every member calls the same operations in the same order; each call
 * resolves once this member's part is done, and rejects with a typed error
 * naming the lost member when one fails or disappears.
 */
export interface Collective {
  /** This member's index, 0 <= rank < size. */
  readonly rank: number;
  /** The number of members. */
  readonly size: number;
  /** Sums `buffer` element-wise across all members, in place: every member ends with the same sum. */
  allReduce(buffer: Float32Array): Promise<void>;
  /** Copies the `root` member's `buffer` into every member's `buffer`, in place. */
  broadcast(buffer: Float32Array, root: number): Promise<void>;
  /** Resolves once every member has reached it. */
  barrier(): Promise<void>;
  /**
   * Optional: `length` floats that this member's all-reduce sums without
   * copying them in (its own part of memory the members share), the same
   * array until the next call; undefined where there is none that long.
   * It is also where other buffers are staged: an all-reduce of any other
   * buffer overwrites it.
   */
  inPlaceBuffer?(length: number): Float32Array | undefined;
  /** Leaves the group and frees its resources; later calls reject. */
  close(): Promise<void>;
}
