import type { ColumnInfo } from './hdf5-rows.js';
import { rowSize, type ColumnArray, type Run } from './hdf5-slices.js';

/** What the main thread and the reader thread say to each other (see hdf5-reader.ts). */

export interface ReaderConfig {
  file: string;
  columns: ColumnInfo[];
  /** Rows one slot holds (the batch size). */
  batchRows: number;
}

export type ToReader =
  /** Read `runs` into `slot` (its buffer travels with the slot's first request), then mark it with `seq`. */
  | { type: 'read'; slot: number; seq: number; runs: Run[]; buffer?: SharedArrayBuffer }
  | { type: 'close' };

export type ToMain =
  | { type: 'ready'; slot: number; seq: number }
  | { type: 'error'; dataset: string; rows: [number, number]; detail: string };

/**
 * A slot is one SharedArrayBuffer: an int32 sequence mark, then each
 * column's `batchRows` rows (8-byte aligned).
 */
function layout(columns: readonly ColumnInfo[], batchRows: number): { offsets: number[]; bytes: number } {
  let bytes = 8;
  const offsets = columns.map((c) => {
    const at = bytes;
    bytes += Math.ceil((rowSize(c) * batchRows * 4) / 8) * 8;
    return at;
  });
  return { offsets, bytes };
}

export function slotBuffer(columns: readonly ColumnInfo[], batchRows: number): SharedArrayBuffer {
  return new SharedArrayBuffer(layout(columns, batchRows).bytes);
}

/** Typed views on a slot: its sequence mark and one array per column. */
export function slotViews(buffer: SharedArrayBuffer, columns: readonly ColumnInfo[], batchRows: number): { seq: Int32Array; columns: ColumnArray[] } {
  const { offsets } = layout(columns, batchRows);
  return {
    seq: new Int32Array(buffer, 0, 1),
    columns: columns.map((c, i) => {
      const n = rowSize(c) * batchRows;
      return c.dtype === 'int32' ? new Int32Array(buffer, offsets[i], n) : new Float32Array(buffer, offsets[i], n);
    }),
  };
}
