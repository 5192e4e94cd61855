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
  /**
   * Optional: a group of the same members in memory they share, with room
   * for a sharded update in place of `length` floats (see InPlaceRegions),
   * joined by every member at the same call; undefined on every member
   * where there is none.
   */
  updateGroup?(length: number): Promise<SharedCollective | undefined>;
  /** Leaves the group and frees its resources; later calls reject. */
  close(): Promise<void>;
}

/**
 * A collective whose members share memory: a member fuses into its own
 * slot, and an all-reduce can stop half-way (reduce-scatter), let each
 * member rewrite its range, and finish (all-gather). SharedMemoryCollective
 * is one; TwoLevelCollective (processes x replicas) another.
 */
export interface SharedCollective extends Collective {
  /** This member's index among those sharing its memory: its range of a reduce-scatter. */
  readonly localRank: number;
  /** How many members share the memory: the number of ranges. */
  readonly localSize: number;
  /** Floats a slot holds: longer buffers are reduced in chunks. */
  readonly capacity: number;
  slot(length: number): Float32Array;
  /** Where members may update their ranges of the weights in place (see InPlaceUpdate); absent where the memory has no room for them. */
  readonly inPlace?: InPlaceRegions;
  reduceScatter(length: number, bounds: readonly number[]): Promise<Float32Array>;
  /**
   * Optional, for one or two members whose result region holds the plain
   * sum of their slots (no tier after it): a reduce-scatter that leaves
   * `leave` unsummed and returns the slots, for an update that reads them
   * where they are, summing two as it reads them (see
   * SharedMemoryCollective.reduceScatterLeaving).
   */
  reduceScatterLeaving?(length: number, bounds: readonly number[], leave: readonly [number, number]): Promise<readonly Float32Array[]>;
  allGather(length: number): Promise<Float32Array>;
}

/**
 * Where the members of a group update their ranges of the weights in place
 * (Replica's sharded update in shared memory): the weights, the result
 * region (the summed gradients), and the optimizer's slots, each as long
 * as the fused buffer, in the group's shared WebAssembly memory.
 */
export interface InPlaceRegions {
  memory: { readonly buffer: ArrayBufferLike };
  weights: Float32Array;
  result: Float32Array;
  slots: Float32Array[];
}

/**
 * Whether `buffer` lies in `slot`'s memory other than at its start: staged
 * into the slot it would overwrite itself, so an all-reduce takes it
 * through a copy instead.
 */
export function overlapsSlot(buffer: Float32Array, slot: Float32Array): boolean {
  return (
    buffer.buffer === slot.buffer &&
    buffer.byteOffset !== slot.byteOffset &&
    buffer.byteOffset < slot.byteOffset + slot.byteLength &&
    buffer.byteOffset + buffer.byteLength > slot.byteOffset
  );
}

/** `allReduce` of `buffer` through a copy of it (a buffer that overlapsSlot), the sum written back. */
export async function allReduceCopy(buffer: Float32Array, allReduce: (copy: Float32Array) => Promise<void>): Promise<void> {
  const copy = buffer.slice();
  await allReduce(copy);
  buffer.set(copy);
}
