import { InvalidArgumentError } from '../core/errors.js';
import { allReduceCopy, overlapsSlot, type Collective, type InPlaceRegions } from './collective.js';
import { CollectiveClosedError, CollectiveError, CollectiveTimeoutError, LostRankError, type CollectiveOp } from './collective-errors.js';
import { addKernel, sharedMemory, type AddKernel } from './shared-sum.js';

/**
 * A group of worker threads that combine buffers in one SharedArrayBuffer:
 * a slot per member and a result region, each `capacity` floats, and a few
 * Int32 words for a sense-reversing barrier. Plain data, so it can be posted
 * to the workers that join it (processes of one host map the same layout
 * from a file instead: host-memory.ts). `data` is the buffer of `memory`, a shared
 * WebAssembly memory that the members' SIMD sum runs over (absent for
 * groups too large for a 32-bit memory: they sum in JavaScript).
 */
export interface SharedGroup {
  readonly size: number;
  readonly capacity: number;
  readonly data: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
  readonly memory?: { readonly buffer: ArrayBufferLike };
  /** After the result region: a weights region and UPDATE_SLOTS optimizer-slot regions, `capacity` floats each (see {@link InPlaceRegions}). */
  readonly updateRegions?: boolean;
}

/** Optimizer slots a group with update regions holds per weight (Adam with AMSGrad and centered RMSprop with momentum have three). */
export const UPDATE_SLOTS = 3;

/** The largest group data a 32-bit WebAssembly memory holds (65535 pages). */
const WASM_MEMORY_BYTES = 65535 * 65536;

/** `Atomics.waitAsync` (Node >= 16; typed only from the es2024 library, which this project does not use yet). */
const atomics = Atomics as typeof Atomics & {
  waitAsync(a: Int32Array, index: number, value: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> };
};

/**
 * How the members of a group wait for each other on a control word: by
 * default with Atomics (threads of one process); processes that map the
 * same memory need the operating system's futexes instead (see host-memory.ts).
 */
export interface GroupSync {
  /** Resolves once `control[index]` is no longer `value`, or after about `timeoutMs` (the caller looks again). */
  wait(control: Int32Array, index: number, value: number, timeoutMs: number): Promise<unknown>;
  /** Wakes every member waiting on `control[index]`. */
  notify(control: Int32Array, index: number): void;
  /** The longest single wait, in ms: between waits the member looks for a lost one. */
  readonly sliceMs: number;
  /** A member known to be gone (its process ended), else undefined. */
  lostMember?(): number | undefined;
}

/** Threads of one process: Atomics.waitAsync and Atomics.notify. */
const threadSync: GroupSync = {
  wait(control, index, value, timeoutMs) {
    const r = atomics.waitAsync(control, index, value, timeoutMs);
    return r.async ? r.value : Promise.resolve(r.value);
  },
  notify(control, index) {
    Atomics.notify(control, index);
  },
  sliceMs: 1000,
};

// Control words.
const ARRIVED = 0;
const GENERATION = 1;
/** 0 while healthy; lost rank + 1 (or size + 1 when unknown) once the group is aborted. */
const ABORTED = 2;
/** Control words in use: a group may keep more of its own after them (see host-memory.ts). */
export const CONTROL_WORDS = 4;

/**
 * Makes the shared memory for `size` members that reduce buffers of up to
 * `capacity` floats at a time (larger ones go in chunks). With
 * `updateRegions`, where they fit in a WebAssembly memory, the group also
 * holds the regions of {@link InPlaceRegions} (capacity rounded up to whole
 * 16-float vectors: the update kernels write whole vectors).
 */
export function createSharedGroup(size: number, capacity: number, options: { updateRegions?: boolean } = {}): SharedGroup {
  if (!Number.isInteger(size) || size < 1) throw new InvalidArgumentError('group size', 'an integer >= 1', size);
  if (!Number.isInteger(capacity) || capacity < 1) throw new InvalidArgumentError('capacity', 'an integer >= 1 (floats)', capacity);
  const padded = Math.ceil(capacity / 16) * 16;
  const updateRegions = options.updateRegions === true && (size + 2 + UPDATE_SLOTS) * padded * 4 <= WASM_MEMORY_BYTES;
  if (updateRegions) capacity = padded;
  const bytes = (size + 1 + (updateRegions ? 1 + UPDATE_SLOTS : 0)) * capacity * 4;
  const memory = bytes <= WASM_MEMORY_BYTES ? sharedMemory(bytes) : undefined;
  return { size, capacity, data: memory?.buffer ?? new SharedArrayBuffer(bytes), control: new SharedArrayBuffer(CONTROL_WORDS * 4), memory, updateRegions };
}

/**
 * Marks the group as failed because `lostRank` (or an unknown member, -1)
 * is gone, and wakes every member waiting in it: their pending and later
 * operations reject with a LostRankError naming it (a CollectiveError when
 * unknown). Safe from any thread.
 */
export function abortSharedGroup(group: SharedGroup, lostRank: number): void {
  abort(new Int32Array(group.control), group.size, lostRank);
}

function abort(control: Int32Array, size: number, lostRank: number, sync = threadSync): void {
  Atomics.compareExchange(control, ABORTED, 0, lostRank >= 0 ? lostRank + 1 : size + 1);
  sync.notify(control, GENERATION);
}

export interface JoinOptions {
  /** Bound on any one wait for the other members, in ms (default 120 s): a member that never arrives cannot hang the others. */
  timeoutMs?: number;
  /** How members wait for each other (default: Atomics, for threads of one process). */
  sync?: GroupSync;
}

/**
 * This member's side of a {@link SharedGroup}. An all-reduce copies the
 * member's buffer into its slot (nothing, when the buffer is the slot view
 * from {@link SharedMemoryCollective.slot}), then reduce-scatters (member r
 * sums segment r of every slot into the result region, in rank order, so
 * every member gets the bit-identical sum) and all-gathers (each member
 * copies the result region out). Two barriers per operation; no message
 * goes through an event loop.
 */
export class SharedMemoryCollective implements Collective {
  readonly size: number;
  private readonly control: Int32Array;
  private readonly slots: Float32Array[];
  private readonly result: Float32Array;
  /** Floats per slot: longer buffers are reduced in chunks. */
  readonly capacity: number;
  private readonly timeoutMs: number;
  private readonly add: AddKernel | undefined;
  private readonly sync: GroupSync;
  private closed = false;
  /** The group's update regions, where it has them. */
  readonly inPlace: InPlaceRegions | undefined;

  constructor(
    group: SharedGroup,
    readonly rank: number,
    options: JoinOptions = {},
  ) {
    if (!Number.isInteger(rank) || rank < 0 || rank >= group.size) throw new InvalidArgumentError('rank', `an integer in [0, ${group.size})`, rank);
    this.size = group.size;
    this.capacity = group.capacity;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.sync = options.sync ?? threadSync;
    this.control = new Int32Array(group.control);
    this.slots = Array.from({ length: group.size }, (_, i) => new Float32Array(group.data, i * group.capacity * 4, group.capacity));
    this.result = new Float32Array(group.data, group.size * group.capacity * 4, group.capacity);
    this.add = group.memory && addKernel(group.memory);
    const region = (i: number) => new Float32Array(group.data, i * group.capacity * 4, group.capacity);
    this.inPlace = group.updateRegions && group.memory
      ? { memory: group.memory, weights: region(group.size + 1), result: this.result, slots: Array.from({ length: UPDATE_SLOTS }, (_, k) => region(group.size + 2 + k)) }
      : undefined;
  }

  /** Every member shares the memory: the local rank and size are the rank and size (see SharedCollective). */
  get localRank(): number {
    return this.rank;
  }

  get localSize(): number {
    return this.size;
  }

  /**
   * A view of this member's slot, `length` <= capacity floats: a buffer
   * filled here (gradients fused in place) is reduced without being copied in.
   */
  slot(length: number): Float32Array {
    if (!Number.isInteger(length) || length < 0 || length > this.capacity)
      throw new InvalidArgumentError('slot length', `an integer in [0, ${this.capacity}]`, length);
    return this.slots[this.rank].subarray(0, length);
  }

  async allReduce(buffer: Float32Array): Promise<void> {
    this.check('all-reduce');
    if (this.size === 1) return; // the sum of one buffer is the buffer
    const own = this.slots[this.rank];
    const inPlace = buffer.buffer === own.buffer && buffer.byteOffset === own.byteOffset;
    if (overlapsSlot(buffer, own)) return allReduceCopy(buffer, (copy) => this.allReduce(copy));
    for (let start = 0; start < buffer.length || start === 0; start += this.capacity) {
      const n = Math.min(this.capacity, buffer.length - start);
      if (!inPlace) own.set(buffer.subarray(start, start + n));
      await this.arrive('all-reduce');
      const [from, to] = this.segment(n);
      this.sumInto(from, to);
      await this.arrive('all-reduce');
      buffer.set(this.result.subarray(0, n), start);
      if (n === 0) break;
    }
  }

  /**
   * The first half of an all-reduce, for a sharded update: every member has
   * filled its slot (`slot(length)`); member r gets, in the result region's
   * `[bounds[r], bounds[r + 1])`, the sum of that range over all slots (in
   * rank order, as `allReduce`), and may rewrite it (with updated weights)
   * before {@link allGather}. Returns that range of the result region.
   */
  async reduceScatter(length: number, bounds: readonly number[]): Promise<Float32Array> {
    const [from, to] = await this.scatter(length, bounds);
    this.sumInto(from, to);
    return this.result.subarray(from, to);
  }

  /**
   * For a group of one or two whose update reads the gradients where they
   * are, summing two as it reads them (InPlaceUpdate): `reduceScatter`,
   * except that `leave` (a part of this member's range) is not summed into
   * the result region. Returns the members' slots, in rank order: their sum
   * over `leave` is what the region would have held. Saves a pass that
   * writes the sum (a copy, for one) and one that reads it back.
   */
  async reduceScatterLeaving(length: number, bounds: readonly number[], leave: readonly [number, number]): Promise<readonly Float32Array[]> {
    if (this.size > 2) throw new InvalidArgumentError('reduceScatterLeaving', 'a group of 1 or 2 members', this.size);
    const [from, to] = await this.scatter(length, bounds);
    if (!(from <= leave[0] && leave[0] <= leave[1] && leave[1] <= to)) throw new InvalidArgumentError('reduceScatterLeaving range', `a part of this member's range [${from}, ${to})`, leave);
    this.sumInto(from, leave[0]);
    this.sumInto(leave[1], to);
    return this.slots.slice(0, this.size);
  }

  /** A reduce-scatter's checks and barrier (every slot is written, and every member has read the previous result); this member's range. */
  private async scatter(length: number, bounds: readonly number[]): Promise<[number, number]> {
    this.check('reduce-scatter');
    if (length > this.capacity || bounds.length !== this.size + 1 || bounds[0] !== 0 || bounds[this.size] !== length || bounds.some((b, i) => i > 0 && b < bounds[i - 1]))
      throw new InvalidArgumentError('reduceScatter bounds', `${this.size + 1} ascending offsets from 0 to ${length} (<= ${this.capacity})`, bounds);
    await this.arrive('reduce-scatter');
    return [bounds[this.rank], bounds[this.rank + 1]];
  }

  /** The second half: once every member has written its range, the whole result region (`length` floats), to read before the next operation. */
  async allGather(length: number): Promise<Float32Array> {
    this.check('all-gather');
    await this.arrive('all-gather');
    return this.result.subarray(0, length);
  }

  async broadcast(buffer: Float32Array, root: number): Promise<void> {
    this.check('broadcast');
    if (!Number.isInteger(root) || root < 0 || root >= this.size) throw new InvalidArgumentError('broadcast root', `an integer in [0, ${this.size})`, root);
    for (let start = 0; start < buffer.length || start === 0; start += this.capacity) {
      const n = Math.min(this.capacity, buffer.length - start);
      // The result region may still be read by a member finishing the previous operation.
      await this.arrive('broadcast');
      if (this.rank === root) this.result.set(buffer.subarray(start, start + n));
      await this.arrive('broadcast');
      if (this.rank !== root) buffer.set(this.result.subarray(0, n), start);
      if (n === 0) break;
    }
  }

  barrier(): Promise<void> {
    return this.arrive('barrier');
  }

  /** This group itself, where it has update regions long enough (see Collective.updateGroup). */
  async updateGroup(length: number): Promise<SharedMemoryCollective | undefined> {
    return this.inPlace && length <= this.capacity ? this : undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async arrive(operation: CollectiveOp): Promise<void> {
    this.check(operation);
    const c = this.control;
    const generation = Atomics.load(c, GENERATION);
    if (Atomics.add(c, ARRIVED, 1) === this.size - 1) {
      Atomics.store(c, ARRIVED, 0);
      Atomics.add(c, GENERATION, 1);
      this.sync.notify(c, GENERATION);
      return;
    }
    await this.waitFor(generation, operation);
  }

  /** Waits until the generation moves past `generation`, the group is aborted, or the bound passes. */
  private async waitFor(generation: number, operation: CollectiveOp): Promise<void> {
    const c = this.control;
    // A short spin catches the common case of members arriving together without an event-loop round trip.
    for (let i = 0; i < 2000; i++) if (Atomics.load(c, GENERATION) !== generation) return;
    const deadline = Date.now() + this.timeoutMs;
    for (let waited = false; Atomics.load(c, GENERATION) === generation; waited = true) {
      this.checkAborted(operation);
      // Looked for only once a wait has run its slice: most waits end sooner.
      const lost = waited ? this.sync.lostMember?.() : undefined;
      if (lost !== undefined) abort(c, this.size, lost, this.sync);
      const left = deadline - Date.now();
      if (left <= 0) {
        abort(c, this.size, -1, this.sync);
        throw new CollectiveTimeoutError(operation, this.rank, this.timeoutMs, `the other members did not arrive within ${this.timeoutMs} ms`);
      }
      if (lost === undefined) await this.sync.wait(c, GENERATION, generation, Math.min(left, this.sync.sliceMs));
    }
    this.checkAborted(operation);
  }

  /**
   * result[from, to) = the sum of every slot over that range, in rank order:
   * with the SIMD kernel where it is built, else in JavaScript, where the
   * first two slots are added in one pass that only writes the result (V8's
   * read-modify-write of shared memory, `out[k] += ...`, is ~4x slower).
   */
  private sumInto(from: number, to: number): void {
    const out = this.result;
    if (this.size === 1) {
      out.set(this.slots[0].subarray(from, to), from);
      return;
    }
    const [a, b, ...rest] = this.slots;
    if (this.add) {
      const at = (v: Float32Array) => v.byteOffset + from * 4;
      this.add(at(out), at(a), at(b), to - from);
      for (const slot of rest) this.add(at(out), at(out), at(slot), to - from);
      return;
    }
    for (let k = from; k < to; k++) out[k] = a[k] + b[k];
    for (const slot of rest) for (let k = from; k < to; k++) out[k] += slot[k];
  }

  private segment(n: number): [number, number] {
    return [Math.floor((this.rank * n) / this.size), Math.floor(((this.rank + 1) * n) / this.size)];
  }

  private check(operation: CollectiveOp): void {
    if (this.closed) throw new CollectiveClosedError(operation, this.rank, 'this member has closed the group');
    this.checkAborted(operation);
  }

  private checkAborted(operation: CollectiveOp): void {
    const aborted = Atomics.load(this.control, ABORTED);
    if (aborted === 0) return;
    if (aborted <= this.size) throw new LostRankError(operation, this.rank, [aborted - 1], `member ${aborted - 1} was lost`);
    throw new CollectiveError(operation, this.rank, 'the group was aborted (a member failed or timed out)');
  }
}
