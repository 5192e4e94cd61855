import * as ops from '../ops/index.js';
import type { Batch } from '../training/types.js';
import { readInto, sharedRows } from '../ops/compiled/index.js';
import { batchRowsOf } from '../training/rows-batch.js';

/**
 * A tensor of a shard in a ring slot: where its rows start in the slot's
 * memory; or, with `source`, rows of that shared source (see
 * {@link RingShard.sources}) whose indices (int32, `shape[0]` of them)
 * start there, for the replica to gather itself.
 */
export interface RingTensor {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  byteOffset: number;
  source?: number;
}

/** A whole-data tensor of an in-memory source in shared memory, which replicas gather their rows from. */
export interface SharedSource {
  id: number;
  values: Float32Array;
}

/** A replica's shard of a batch written into a slot of a {@link BatchRing}: only where its values are crosses. */
export interface RingShard {
  slot: number;
  /** The slot's memory: sent with the first shard that uses it (and again when it was replaced by a larger one). */
  buffer?: SharedArrayBuffer;
  x: RingTensor[];
  y: RingTensor[];
  sampleWeight: (RingTensor | null)[] | null;
  /** The shared sources the replicas keep from now on (the others go): sent when they change. */
  sources?: SharedSource[];
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
 * of the two cores. Rows of an in-memory source held in shared memory go
 * as their indices alone: each replica gathers its rows of the source
 * itself (see partsOf). A slot is reused once the call that read it has
 * answered; three cover a running step, a staged one and the one before,
 * and a call of several steps (steps_per_execution) adds slots as it needs them.
 */
export class BatchRing {
  private readonly slots: Slot[];
  private next = 0;
  /** The shared sources the replicas hold, oldest first, by their values. */
  private readonly sources = new Map<Float32Array, number>();
  private nextSource = 0;
  /** The sources changed since the replicas were last sent them. */
  private sourcesChanged = false;

  constructor(size = 3) {
    this.slots = Array.from({ length: size }, () => ({ buffer: undefined, fresh: false, busy: false }));
  }

  /**
   * Writes `batch` into a free slot (a new one when every slot is still
   * being read) and cuts it into shards of `ranges` (rows per replica);
   * `release` frees the slot once the replicas have answered. Undefined for
   * a tensor of another dtype: the caller then sends arrays.
   */
  write(batch: Batch, ranges: readonly [number, number][]): { shards: RingShard[]; release: () => void } | undefined {
    const { parts, nx, ny } = partsOf(batch);
    if (parts.some((p) => p && !(p.dtype in BYTES))) return undefined;
    const index = this.slots.findIndex((_, k) => !this.slots[(this.next + k) % this.slots.length].busy);
    // Every slot read: one more (a call of several steps holds one per step).
    if (index < 0) this.slots.push({ buffer: undefined, fresh: false, busy: false });
    const slotIndex = index < 0 ? this.slots.length - 1 : (this.next + index) % this.slots.length;
    const slot = this.slots[slotIndex];
    this.next = slotIndex + 1;
    // Parts gathered by the replicas share one copy of the batch's row indices.
    const indices = parts.find((p) => p?.rows)?.rows!.indices;
    const offsets: number[] = [];
    let bytes = indices ? aligned(indices.length * 4) : 0;
    for (const p of parts) {
      offsets.push(p?.rows ? 0 : bytes);
      if (p && !p.rows) bytes += aligned(ops.util.sizeFromShape(p.shape) * BYTES[p.dtype]);
    }
    if (!slot.buffer || slot.buffer.byteLength < bytes) [slot.buffer, slot.fresh] = [new SharedArrayBuffer(Math.max(ALIGN, bytes)), true];
    const buffer = slot.buffer;
    if (indices) new Int32Array(buffer, 0, indices.length).set(indices);
    parts.forEach((p, i) => p?.fill?.(ringValues(buffer, { shape: [ops.util.sizeFromShape(p.shape)], dtype: p.dtype, byteOffset: offsets[i] })));
    const ids = this.sourceIds(parts.flatMap((p) => (p?.rows ? [p.rows.values] : [])));
    const placed = (p: Part, offset: number, rank: number): RingTensor => {
      const [start, end] = ranges[rank];
      const shape = [end - start, ...p.shape.slice(1)];
      if (p.rows) return { shape, dtype: p.dtype, byteOffset: start * 4, source: ids.get(p.rows.values) };
      const rowBytes = (ops.util.sizeFromShape(p.shape) / p.shape[0]) * BYTES[p.dtype];
      return { shape, dtype: p.dtype, byteOffset: offset + start * rowBytes };
    };
    const shards = ranges.map((_, rank): RingShard => ({
      slot: slotIndex,
      ...(slot.fresh ? { buffer } : {}),
      x: parts.slice(0, nx).map((p, i) => placed(p!, offsets[i], rank)),
      y: parts.slice(nx, nx + ny).map((p, i) => placed(p!, offsets[nx + i], rank)),
      sampleWeight: parts.length > nx + ny ? parts.slice(nx + ny).map((p, i) => (p ? placed(p, offsets[nx + ny + i], rank) : null)) : null,
    }));
    if (this.sourcesChanged) {
      const sources = [...this.sources].map(([values, id]) => ({ id, values }));
      for (const shard of shards) shard.sources = sources;
      this.sourcesChanged = false;
    }
    slot.fresh = false;
    slot.busy = true;
    return { shards, release: () => void (slot.busy = false) };
  }

  /**
   * The ids of the shared sources `used` (one write's), registered when new;
   * beyond MAX_SOURCES the oldest others are dropped.
   */
  private sourceIds(used: Float32Array[]): Map<Float32Array, number> {
    for (const values of used)
      if (!this.sources.has(values)) {
        this.sources.set(values, this.nextSource++);
        this.sourcesChanged = true;
      }
    for (const values of this.sources.keys()) {
      if (this.sources.size <= MAX_SOURCES) break;
      if (used.includes(values)) continue;
      this.sources.delete(values);
      this.sourcesChanged = true;
    }
    return new Map(used.map((values) => [values, this.sources.get(values)!]));
  }
}

/** Shared sources the replicas keep at most (a fit's x and y, and its validation data's): the oldest goes first. */
const MAX_SOURCES = 6;

const aligned = (bytes: number) => Math.ceil(bytes / ALIGN) * ALIGN;

/** One tensor of a batch to write into a slot: its shape and dtype, and how its values get there (or which rows of a shared source the replicas gather). */
interface Part {
  shape: number[];
  dtype: RingTensor['dtype'];
  fill?(out: Float32Array | Int32Array | Uint8Array): void;
  rows?: { values: Float32Array; indices: Int32Array };
}

/**
 * A batch's tensors (x, y, then one sample weight per output, null for
 * none) as slot parts. Each tensor is read in place where the compiled
 * backend holds it (a batch in its heap): no array per tensor per step. Of
 * a batch of rows of an in-memory source (rowsBatch), only the rows'
 * indices go into the slot where the compiled backend holds the source in
 * shared memory (see sharedRows): each replica gathers its rows itself, in
 * parallel, where this thread gathered them all into the slot first.
 */
function partsOf(batch: Batch): { parts: (Part | null)[]; nx: number; ny: number } {
  const rows = batchRowsOf(batch);
  if (!rows) {
    const parts = [...batch.x, ...batch.y, ...(batch.sampleWeight ?? [])].map((t) => t && { shape: t.shape, dtype: t.dtype as RingTensor['dtype'], fill: (out: Float32Array | Int32Array | Uint8Array) => readInto(t, out) });
    return { parts, nx: batch.x.length, ny: batch.y.length };
  }
  const { source, indices } = rows;
  // Where the source cannot be shared (not float32, not held by the compiled backend), the part comes from the batch's
  // tensor (gathered when first read).
  const fromSource = (s: ops.Tensor, tensor: () => ops.Tensor): Part => {
    const shape = [indices.length, ...s.shape.slice(1)];
    const values = sharedRows(s);
    if (values) return { shape, dtype: 'float32', rows: { values, indices } };
    return { shape, dtype: s.dtype as RingTensor['dtype'], fill: (out) => readInto(tensor(), out) };
  };
  const sw = source.sampleWeight;
  const parts = [
    ...source.x.map((s, i) => fromSource(s, () => batch.x[i])),
    ...source.y.map((s, i) => fromSource(s, () => batch.y[i])),
    ...(sw ? source.y.map((_, i) => fromSource(sw, () => batch.sampleWeight![i]!)) : []),
  ];
  return { parts, nx: source.x.length, ny: source.y.length };
}

/** The typed array of a shard's tensor in its slot's memory (a view: nothing is copied). */
export function ringValues(buffer: SharedArrayBuffer, r: RingTensor): Float32Array | Int32Array | Uint8Array {
  const size = ops.util.sizeFromShape(r.shape);
  if (r.dtype === 'float32') return new Float32Array(buffer, r.byteOffset, size);
  if (r.dtype === 'int32') return new Int32Array(buffer, r.byteOffset, size);
  return new Uint8Array(buffer, r.byteOffset, size);
}
