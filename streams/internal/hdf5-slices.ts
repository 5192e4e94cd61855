import type h5wasmModule from 'h5wasm/node';
import { Hdf5ReadError } from '../../src/core/errors.js';
import type { ColumnInfo } from './hdf5.js';

/**
 * Reading whole runs of rows into typed arrays, with no tensors: shared by
 * the reader thread (which must not load tfjs) and main-thread reads.
 */

type H5 = typeof h5wasmModule;
type H5File = InstanceType<H5['File']>;
type H5Dataset = InstanceType<H5['Dataset']>;

/** Rows `[first, first + count)` of the file. */
export type Run = readonly [first: number, count: number];

/** A column's rows as numbers, row-major. */
export type ColumnArray = Float32Array | Int32Array;

export function rowSize(column: ColumnInfo): number {
  return column.rowShape.reduce((p, s) => p * s, 1);
}

/**
 * What went wrong, in one line: with h5wasm's throwing error handler an HDF5
 * error's message is HDF5's whole diagnostic stack, whose innermost entry
 * names the cause ("truncated file: eof = ...").
 */
export function hdf5Detail(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const causes = [...message.matchAll(/#\d+: .* in [\w.]+\(\): (.*)$/gm)];
  return causes.length > 0 ? causes[causes.length - 1][1] : message;
}

/** Opens the file for reading; a file HDF5 cannot open (truncated, corrupt) is an Hdf5ReadError on the rows about to be read. */
export function openForReading(h5: H5, file: string, column: ColumnInfo, rows: readonly [number, number]): H5File {
  let f: H5File;
  try {
    f = new h5.File(file, 'r');
  } catch (err) {
    throw new Hdf5ReadError(file, column.name, rows, `cannot open the file: ${hdf5Detail(err)}`);
  }
  // h5wasm reports a failed open with a negative id rather than an exception.
  if (f.file_id < 0n) throw new Hdf5ReadError(file, column.name, rows, 'cannot open the file: HDF5 refused it (truncated, corrupt or not HDF5)');
  return f;
}

/** A column's data set in an open file, with its row count when opened. */
export interface OpenColumn {
  readonly column: ColumnInfo;
  readonly dataset: H5Dataset;
  readonly rows: number;
}

/** Finds every column's data set in an open file (once per file, not per read); `at` is what the error names. */
export function openColumns(h5: H5, f: H5File, file: string, columns: readonly ColumnInfo[], at: readonly [number, number]): OpenColumn[] {
  return columns.map((column) => {
    let d: unknown;
    try {
      d = f.get(column.name);
    } catch (err) {
      throw new Hdf5ReadError(file, column.name, at, `cannot open the data set: ${hdf5Detail(err)}`);
    }
    if (!(d instanceof h5.Dataset)) throw new Hdf5ReadError(file, column.name, at, d === null || d === undefined ? 'the data set is gone' : 'not a data set any more');
    return { column, dataset: d, rows: d.shape?.[0] ?? 0 };
  });
}

/** Reads `runs` of every column into `targets[c]`, one hyperslab read per run and column, rows in run order. */
export function readRunsInto(file: string, columns: readonly OpenColumn[], runs: readonly Run[], targets: readonly ColumnArray[]): void {
  columns.forEach(({ column: c, dataset, rows: held }, ci) => {
    const size = rowSize(c);
    let at = 0;
    for (const [first, count] of runs) {
      const rows: [number, number] = [first, first + count];
      const fail = (detail: string): Hdf5ReadError => new Hdf5ReadError(file, c.name, rows, detail);
      if (held < rows[1]) throw fail(`the data set now has ${held} rows (the file was shortened)`);
      let raw: unknown;
      try {
        raw = dataset.slice([rows]);
      } catch (err) {
        throw fail(`read failed: ${hdf5Detail(err)}`);
      }
      const n = count * size;
      const values = ArrayBuffer.isView(raw) && !(raw instanceof DataView) ? (raw as unknown as ArrayLike<number | bigint>) : undefined;
      if (values?.length !== n) throw fail(`expected ${n} numbers, read ${values ? values.length : typeof raw}`);
      const target = targets[ci].subarray(at, at + n);
      if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) for (let k = 0; k < n; k++) target[k] = Number(raw[k]);
      else target.set(values as ArrayLike<number>);
      at += n;
    }
  });
}
