import type * as ops from '../ops/index.js';
import type { Batch } from '../training/types.js';
import { readInto } from '../ops/compiled/index.js';

/** A tensor of a shard in a ring slot: where its rows start in the slot's memory. */
export interface RingTensor {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  byteOffset: number;
}

/** A replica's shard of a batch written into a slot of a {@link BatchRing}: only where its values are crosses. */
export interface RingShard {
  slot: number;
  /** The slot's memory: sent with the first shard that uses it (and again when it was replaced by a larger one). */
  buffer?: SharedArrayBuffer;
  x: RingTensor[];
  y: RingTensor[];
  sampleWeight: (RingTensor | null)[] | null;
}

const BYTES = { float32: 4, int32: 4, bool: 1 } as const;
const ALIGN = 16;

interface Slot {
  buffer: SharedArrayBuffer | undefined;
  /** The buffer has not been sent to the replicas yet. */
  fresh: boolean;
  /** A call's shards in this slot may still be read. */
  busy: boolean;
}

/**
 * Global batches for worker-thread replicas, written once each into a slot
 * of shared memory: every replica reads its rows there in place (its step's
 * graph takes them as inputs without a copy), and a call carries only
 * offsets. Sent as arrays instead, every batch was a fresh buffer per
 * replica per step, and the workers' external memory churn set off a major
 * garbage collection every 20-50 steps, whose marking took up to a fifth
 * of the two cores. A slot is reused once the call that read it has
 * answered; three cover a running step, a staged one and the one before.
 */
export class BatchRing {
  private readonly slots: Slot[];
  private next = 0;

  constructor(size = 3) {
    this.slots = Array.from({ length: size }, () => ({ buffer: undefined, fresh: false, busy: false }));
  }

  /**
   * Writes `batch` into a free slot and cuts it into shards of `ranges`
   * (rows per replica); `release` frees the slot once the replicas have
   * answered. Undefined when every slot is still being read, or for a
   * tensor of another dtype: the caller then sends arrays.
   */
  write(batch: Batch, ranges: readonly [number, number][]): { shards: RingShard[]; release: () => void } | undefined {
    const index = this.slots.findIndex((_, k) => !this.slots[(this.next + k) % this.slots.length].busy);
    const tensors = [...batch.x, ...batch.y, ...(batch.sampleWeight ?? [])];
    if (index < 0 || tensors.some((t) => t && !(t.dtype in BYTES))) return undefined;
    const slotIndex = (this.next + index) % this.slots.length;
    const slot = this.slots[slotIndex];
    this.next = slotIndex + 1;
    const offsets: number[] = [];
    let bytes = 0;
    for (const t of tensors) {
      offsets.push(bytes);
      if (t) bytes += Math.ceil((t.size * BYTES[t.dtype as RingTensor['dtype']]) / ALIGN) * ALIGN;
    }
    if (!slot.buffer || slot.buffer.byteLength < bytes) [slot.buffer, slot.fresh] = [new SharedArrayBuffer(Math.max(ALIGN, bytes)), true];
    const buffer = slot.buffer;
    tensors.forEach((t, i) => t && write(buffer, offsets[i], t));
    const placed = (t: ops.Tensor, offset: number, rank: number): RingTensor => {
      const [start, end] = ranges[rank];
      const rowBytes = (t.size / t.shape[0]) * BYTES[t.dtype as RingTensor['dtype']];
      return { shape: [end - start, ...t.shape.slice(1)], dtype: t.dtype as RingTensor['dtype'], byteOffset: offset + start * rowBytes };
    };
    const nx = batch.x.length;
    const ny = batch.y.length;
    const shards = ranges.map((_, rank): RingShard => ({
      slot: slotIndex,
      ...(slot.fresh ? { buffer } : {}),
      x: batch.x.map((t, i) => placed(t, offsets[i], rank)),
      y: batch.y.map((t, i) => placed(t, offsets[nx + i], rank)),
      sampleWeight: batch.sampleWeight?.map((t, i) => (t ? placed(t, offsets[nx + ny + i], rank) : null)) ?? null,
    }));
    slot.fresh = false;
    slot.busy = true;
    return { shards, release: () => void (slot.busy = false) };
  }
}

/** `t`'s values into the slot, read in place where the compiled backend holds them (a batch in its heap): no array per tensor per step. */
function write(buffer: SharedArrayBuffer, offset: number, t: ops.Tensor): void {
  readInto(t, ringValues(buffer, { shape: [t.size], dtype: t.dtype as RingTensor['dtype'], byteOffset: offset }));
}

/** The typed array of a shard's tensor in its slot's memory (a view: nothing is copied). */
export function ringValues(buffer: SharedArrayBuffer, r: RingTensor): Float32Array | Int32Array | Uint8Array {
  const size = r.shape.reduce((a, b) => a * b, 1);
  if (r.dtype === 'float32') return new Float32Array(buffer, r.byteOffset, size);
  if (r.dtype === 'int32') return new Int32Array(buffer, r.byteOffset, size);
  return new Uint8Array(buffer, r.byteOffset, size);
}
