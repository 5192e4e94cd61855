import { existsSync } from 'node:fs';
import * as ops from '../../src/ops/index.js';
import { Hdf5FormatError, Hdf5RangeError } from '../../src/core/errors.js';
import type { H5, H5Dataset } from '../../src/core/hdf5.js';

/** Rows of HDF5 data sets as tensors (fromHdf5, cache to a file), through the engine's h5wasm adapter. */

export interface ColumnInfo {
  name: string;
  rowShape: number[];
  dtype: 'float32' | 'int32';
  rows: number;
}

function datasetOf(h5: H5, f: InstanceType<H5['File']>, file: string, name: string, range: readonly [number, number]): H5Dataset {
  const d = f.get(name);
  if (!(d instanceof h5.Dataset)) throw new Hdf5RangeError(file, name, range, d === null ? 'no such data set' : 'not a data set');
  return d;
}

/** Opens the file, checks that every data set exists and holds rows [start, end), and describes them. */
export function inspect(h5: H5, file: string, names: readonly string[], start: number, end: number | undefined): { columns: ColumnInfo[]; start: number; end: number } {
  if (!existsSync(file)) throw new Hdf5FormatError(file, '', 'no such file');
  const f = new h5.File(file, 'r');
  try {
    const columns = names.map((name) => {
      const d = datasetOf(h5, f, file, name, [start, end ?? -1]);
      const shape = d.shape ?? [];
      if (shape.length === 0) throw new Hdf5RangeError(file, name, [start, end ?? -1], 'a scalar data set has no rows');
      const meta = d.metadata as { type: number };
      return { name, rowShape: shape.slice(1), dtype: meta.type === 0 ? 'int32' : 'float32', rows: shape[0] } as ColumnInfo;
    });
    const stop = end ?? Math.min(...columns.map((c) => c.rows));
    for (const c of columns) {
      if (!Number.isInteger(start) || !Number.isInteger(stop) || start < 0 || stop > c.rows || start >= stop)
        throw new Hdf5RangeError(file, c.name, [start, stop], start >= stop ? 'the range is empty' : `outside the data set's ${c.rows} rows`);
    }
    return { columns, start, end: stop };
  } finally {
    f.close();
  }
}

/** Contiguous runs of ascending indices: [first, count][]. */
export function runsOf(indices: ArrayLike<number>): [number, number][] {
  const runs: [number, number][] = [];
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === i) last[1]++;
    else runs.push([i, 1]);
  }
  return runs;
}

/**
 * Reads the given rows (relative to `offset`) of each column, a contiguous
 * run at a time (one hyperslab read per run and column), as one tensor per
 * row and column: result[column][k] is row indices[k].
 */
export function readRows(
  h5: H5,
  file: string,
  columns: readonly ColumnInfo[],
  offset: number,
  indices: ArrayLike<number>,
  onRead?: (range: { start: number; end: number }) => void,
): ops.Tensor[][] {
  const out: ops.Tensor[][] = columns.map(() => []);
  if (indices.length === 0) return out;
  const f = new h5.File(file, 'r');
  try {
    for (const [first, count] of runsOf(indices)) {
      const a = offset + first;
      onRead?.({ start: a, end: a + count });
      columns.forEach((c, ci) => {
        const d = datasetOf(h5, f, file, c.name, [a, a + count]);
        const raw = d.slice([[a, a + count]]) as ArrayLike<number> | null;
        if (raw === null) throw new Hdf5RangeError(file, c.name, [a, a + count], 'read returned nothing');
        const data = c.dtype === 'int32' ? Int32Array.from(raw as ArrayLike<number>) : raw instanceof Float32Array ? raw : Float32Array.from(raw);
        const size = c.rowShape.reduce((p, s) => p * s, 1);
        for (let r = 0; r < count; r++) out[ci].push(ops.tensor(data.slice(r * size, (r + 1) * size), c.rowShape, c.dtype));
      });
    }
  } catch (err) {
    out.forEach((col) => col.forEach((t) => t.dispose()));
    throw err;
  } finally {
    f.close();
  }
  return out;
}
