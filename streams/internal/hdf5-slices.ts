import type { H5, H5Dataset, H5File } from '../../src/core/hdf5.js';
import { Hdf5ReadError } from '../../src/core/errors.js';
import type { ColumnInfo } from './hdf5-rows.js';

/**
 * Reading whole runs of rows into typed arrays, with no tensors: shared by
 * the reader thread (which must not load tfjs) and main-thread reads.
 */

type H5Module = Awaited<H5['ready']>;
type Metadata = H5Dataset['metadata'];

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

/**
 * Reads `runs` of every column into `targets[c]`, one hyperslab read per run
 * and column, rows in run order. Little-endian numbers are copied once,
 * straight from h5wasm's heap into the target (converted to its type);
 * anything else goes through h5wasm's own `slice`.
 */
export function readRunsInto(module: H5Module, file: string, columns: readonly OpenColumn[], runs: readonly Run[], targets: readonly ColumnArray[]): void {
  columns.forEach(({ column: c, dataset, rows: held }, ci) => {
    const size = rowSize(c);
    let at = 0;
    for (const [first, count] of runs) {
      const rows: [number, number] = [first, first + count];
      const fail = (detail: string): Hdf5ReadError => new Hdf5ReadError(file, c.name, rows, detail);
      if (held < rows[1]) throw fail(`the data set now has ${held} rows (the file was shortened)`);
      const n = count * size;
      const target = targets[ci].subarray(at, at + n);
      at += n;
      try {
        if (readFromHeap(module, dataset, c, rows, target)) continue;
      } catch (err) {
        throw fail(`read failed: ${hdf5Detail(err)}`);
      }
      let raw: unknown;
      try {
        raw = dataset.slice([rows]);
      } catch (err) {
        throw fail(`read failed: ${hdf5Detail(err)}`);
      }
      const values = ArrayBuffer.isView(raw) && !(raw instanceof DataView) ? (raw as unknown as ArrayLike<number | bigint>) : undefined;
      if (values?.length !== n) throw fail(`expected ${n} numbers, read ${values ? values.length : typeof raw}`);
      copyNumbers(values, target);
    }
  });
}

function copyNumbers(values: ArrayLike<number | bigint>, target: ColumnArray): void {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) for (let k = 0; k < target.length; k++) target[k] = Number(values[k]);
  else target.set(values as ArrayLike<number>);
}

type HeapArray = new (buffer: ArrayBufferLike, offset: number, length: number) => ArrayLike<number | bigint>;

/** The typed array type of a little-endian numeric HDF5 type, as h5wasm's `slice` would return it; undefined for any other. */
function heapArrayType(module: H5Module, meta: Metadata): HeapArray | undefined {
  if (!meta.littleEndian) return undefined;
  if (meta.type === module.H5T_class_t.H5T_FLOAT.value) return meta.size === 4 ? Float32Array : meta.size === 8 ? Float64Array : undefined;
  if (meta.type !== module.H5T_class_t.H5T_INTEGER.value) return undefined;
  const types: Record<number, [HeapArray, HeapArray]> = {
    1: [Int8Array, Uint8Array], 2: [Int16Array, Uint16Array], 4: [Int32Array, Uint32Array], 8: [BigInt64Array, BigUint64Array],
  };
  return types[meta.size]?.[meta.signed ? 0 : 1];
}

/**
 * Rows `[a, b)` of a data set read into h5wasm's heap (as h5wasm's `slice`
 * does) and copied from there into `target` once; false when the data set's
 * type is not a little-endian number (nothing read then).
 */
function readFromHeap(module: H5Module, dataset: H5Dataset, column: ColumnInfo, [a, b]: readonly [number, number], target: ColumnArray): boolean {
  const meta = dataset.metadata;
  const n = target.length;
  const HeapArray = heapArrayType(module, meta);
  if (!HeapArray) return false;
  const ptr = module._malloc(n * meta.size);
  if (!ptr) throw new Error(`cannot allocate ${n * meta.size} bytes in h5wasm's heap`);
  try {
    const count = [BigInt(b - a), ...column.rowShape.map(BigInt)];
    const offset = count.map((_, i) => (i === 0 ? BigInt(a) : 0n));
    module.get_dataset_data(dataset.file_id, dataset.path, count, offset, count.map(() => 1n), BigInt(ptr));
    copyNumbers(new HeapArray(module.HEAPU8.buffer, ptr, n), target);
  } finally {
    module._free(ptr);
  }
  return true;
}
