/**
 * Rows of one model input or output, on the host: `data` holds `shape[0]`
 * rows of `shape.slice(1)` each, row-major. Requests carry them into a batch
 * and answers carry them out, so that no tensor outlives a batch.
 */
export interface Rows {
  data: Float32Array | Int32Array;
  shape: number[];
}

/** Numbers in one row. */
export function rowSize(rows: Rows): number {
  return rows.shape.slice(1).reduce((a, b) => a * b, 1);
}

/** The rows of several requests stacked into one block (same row shape), in order. */
export function concatRows(parts: readonly Rows[]): Rows {
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((sum, p) => sum + p.shape[0], 0);
  const first = parts[0];
  const data = first.data instanceof Int32Array ? new Int32Array(n * rowSize(first)) : new Float32Array(n * rowSize(first));
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return { data, shape: [n, ...first.shape.slice(1)] };
}

/** Rows [start, start + count) as their own block (a copy, so that the batch's buffer can go). */
export function sliceRows(rows: Rows, start: number, count: number): Rows {
  const size = rowSize(rows);
  return { data: rows.data.slice(start * size, (start + count) * size), shape: [count, ...rows.shape.slice(1)] };
}
