import fs from 'node:fs';
import type h5wasmModule from 'h5wasm/node';
import { Hdf5FormatError, RxKerasError, describe } from './errors.js';

/**
 * The one adapter to h5wasm: thin, typed access to HDF5 files, with the
 * Keras conventions: string-list attributes split into `name0`, `name1`,
 * ... past 64 KB, fixed-length string arrays as h5py writes them, and every
 * failure turned into an Hdf5FormatError naming the file and the object.
 * The module loads on first use, so importing rxkeras (or rxkeras/streams)
 * does not start it.
 */
export type H5 = typeof h5wasmModule;
export type H5File = InstanceType<H5['File']>;
export type H5Group = InstanceType<H5['Group']>;
export type H5Dataset = InstanceType<H5['Dataset']>;

/** HDF5's object-header limit, as Keras's `HDF5_OBJECT_HEADER_LIMIT`. */
export const HDF5_OBJECT_HEADER_LIMIT = 64512;

let loading: Promise<H5> | undefined;
let loaded: H5 | undefined;

/** Loads and starts h5wasm once; resolves with the module. */
export function loadH5(): Promise<H5> {
  loading ??= import('h5wasm/node').then(async (m) => {
    await m.default.ready;
    return (loaded = m.default);
  });
  return loading;
}

/** Numbers read from a data set, with its shape and whether it holds integers. */
export interface H5Array {
  shape: number[];
  data: Float32Array | Int32Array | Float64Array;
  dtype: 'float32' | 'int32';
}

/**
 * Checks that `path` is an HDF5 file that is not truncated (signature and
 * superblock end-of-file address), before h5wasm touches it: HDF5 reports
 * such files with long diagnostics and untyped errors.
 */
export function checkHdf5File(path: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw new Hdf5FormatError(path, '', `cannot open the file: ${(e as Error).message}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const signature = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
    const head = Buffer.alloc(96);
    for (let offset = 0; offset + 8 <= size; offset = offset === 0 ? 512 : offset * 2) {
      const n = fs.readSync(fd, head, 0, head.length, offset);
      if (n < 8 || !signature.every((b, i) => head[i] === b)) continue;
      const version = head[8];
      const layout =
        version === 0 || version === 1
          ? { sizeOfOffsets: head[13], addresses: version === 0 ? 24 : 28, eofIndex: 2 }
          : version === 2 || version === 3
            ? { sizeOfOffsets: head[9], addresses: 12, eofIndex: 2 }
            : undefined;
      if (!layout) throw new Hdf5FormatError(path, '', `unsupported HDF5 superblock version ${version}`);
      const o = layout.sizeOfOffsets;
      if (![2, 4, 8].includes(o)) throw new Hdf5FormatError(path, '', `corrupted HDF5 superblock (size of offsets ${o})`);
      const need = layout.addresses + 4 * o;
      if (n < need) throw new Hdf5FormatError(path, '', `truncated file: the superblock needs ${offset + need} bytes, the file has ${size}`);
      const read = (index: number): number => {
        const at = layout.addresses + index * o;
        let v = 0;
        for (let i = o - 1; i >= 0; i--) v = v * 256 + head[at + i];
        return v;
      };
      const undefinedAddress = 256 ** o - 1;
      const base = read(0) === undefinedAddress ? offset : read(0);
      const eof = read(layout.eofIndex);
      if (eof !== undefinedAddress && base + eof > size)
        throw new Hdf5FormatError(path, '', `truncated file: HDF5 says it ends at byte ${base + eof}, the file has ${size} bytes`);
      return;
    }
    throw new Hdf5FormatError(path, '', 'not an HDF5 file (no HDF5 signature)');
  } finally {
    fs.closeSync(fd);
  }
}

/** Opens an HDF5 file for reading, runs `f`, closes it. Errors become Hdf5FormatError. */
export async function withH5Read<T>(path: string, f: (file: H5File) => T): Promise<T> {
  const h5wasm = await loadH5();
  checkHdf5File(path);
  let file: H5File;
  try {
    file = new h5wasm.File(path, 'r');
  } catch (e) {
    throw wrapH5Error(e, path, '', 'cannot open');
  }
  try {
    return f(file);
  } catch (e) {
    throw wrapH5Error(e, path, '', 'cannot read');
  } finally {
    try {
      file.close();
    } catch {
      // closing a file h5wasm already failed on: nothing more to report
    }
  }
}

/** Creates an HDF5 file at `path` (truncating), runs `f`, closes it. */
export async function withH5Write<T>(path: string, f: (file: H5File) => T): Promise<T> {
  const h5wasm = await loadH5();
  let file: H5File;
  try {
    file = new h5wasm.File(path, 'w');
  } catch (e) {
    throw wrapH5Error(e, path, '', 'cannot create');
  }
  let closed = false;
  try {
    const out = f(file);
    file.close();
    closed = true;
    return out;
  } catch (e) {
    throw wrapH5Error(e, path, '', 'cannot write');
  } finally {
    if (!closed)
      try {
        file.close();
      } catch {
        // already reporting the first error
      }
  }
}

export function wrapH5Error(e: unknown, file: string, location: string, what: string): RxKerasError {
  if (e instanceof RxKerasError) return e;
  const detail = e instanceof Error ? e.message : describe(e);
  const err = new Hdf5FormatError(file, location, `${what}: ${detail}`);
  err.cause = e;
  return err;
}

export function isGroup(x: unknown): x is H5Group {
  // Nothing is an HDF5 object before the module has loaded.
  return loaded !== undefined && x instanceof loaded.Group;
}

export function isDataset(x: unknown): x is H5Dataset {
  return loaded !== undefined && x instanceof loaded.Dataset;
}

/** The group at `path` inside `parent`; Hdf5FormatError when it is missing or not a group. */
export function getGroup(file: H5File, parent: H5Group, path: string): H5Group {
  const g = parent.get(path);
  if (!isGroup(g)) throw new Hdf5FormatError(file.filename, joinPath(parent.path, path), g ? 'expected a group, found a data set' : 'missing group');
  return g;
}

/** Reads a numeric data set as float32 (or int32 for integer data: counters such as `iterations`). */
export function readArray(file: H5File, parent: H5Group, path: string): H5Array {
  const location = joinPath(parent.path, path);
  let d: unknown;
  try {
    d = parent.get(path);
  } catch (e) {
    throw wrapH5Error(e, file.filename, location, 'cannot open the data set');
  }
  if (!isDataset(d)) throw new Hdf5FormatError(file.filename, location, d ? 'expected a data set, found a group' : 'missing data set');
  let shape: number[];
  let value: unknown;
  try {
    shape = d.shape ?? [];
    value = d.value;
  } catch (e) {
    throw wrapH5Error(e, file.filename, location, 'cannot read the data set');
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const fail = (what: string) => new Hdf5FormatError(file.filename, location, what);
  if (value instanceof Float32Array) {
    if (value.length !== size) throw fail(`expected ${size} values for shape [${shape}], found ${value.length}`);
    return { shape, data: value, dtype: 'float32' };
  }
  if (value instanceof Float64Array || value instanceof Int8Array || value instanceof Uint8Array || value instanceof Int16Array ||
      value instanceof Uint16Array || value instanceof Int32Array || value instanceof Uint32Array || value instanceof BigInt64Array ||
      value instanceof BigUint64Array) {
    if (value.length !== size) throw fail(`expected ${size} values for shape [${shape}], found ${value.length}`);
    if (value instanceof Float64Array) return { shape, data: Float32Array.from(value), dtype: 'float32' };
    const ints = new Int32Array(size);
    for (let i = 0; i < size; i++) ints[i] = Number((value as ArrayLike<number | bigint>)[i]);
    return { shape, data: ints, dtype: 'int32' };
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    const n = Number(value);
    return Number.isInteger(n) && typeof value !== 'number'
      ? { shape, data: Int32Array.of(n), dtype: 'int32' }
      : { shape, data: Float32Array.of(n), dtype: 'float32' };
  }
  throw fail(`expected numbers, found ${describe(d.dtype)}`);
}

/** Writes a numeric data set, creating the intermediate groups of a path such as `dense/kernel:0`. */
export function writeArray(group: H5Group, path: string, shape: readonly number[], data: Float32Array | Int32Array | BigInt64Array): void {
  const parts = path.split('/');
  let g = group;
  for (const p of parts.slice(0, -1)) {
    const existing = g.get(p);
    g = isGroup(existing) ? existing : g.create_group(p);
  }
  const dtype = data instanceof Float32Array ? '<f' : data instanceof Int32Array ? '<i' : '<q';
  g.create_dataset({ name: parts[parts.length - 1], data, shape: [...shape], dtype });
}

/** A string attribute (Keras writes JSON configs as scalar strings). */
export function readStringAttr(file: H5File, obj: H5Group, name: string): string | undefined {
  if (!(name in obj.attrs)) return undefined;
  const v = obj.attrs[name].value;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  throw new Hdf5FormatError(file.filename, `${obj.path}@${name}`, `expected a string attribute, found ${describe(v)}`);
}

/**
 * A list-of-strings attribute, as Keras's `load_attributes_from_hdf5_group`:
 * `name` itself, or its chunks `name0`, `name1`, ... An empty numeric array
 * (what h5py writes for an empty list) reads as [].
 */
export function readStringListAttr(file: H5File, obj: H5Group, name: string): string[] | undefined {
  const attrs = obj.attrs;
  const one = (key: string): string[] => {
    const v = attrs[key].value;
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
    if (ArrayBuffer.isView(v) && (v as Float64Array).length === 0) return [];
    if (Array.isArray(v) && v.length === 0) return [];
    throw new Hdf5FormatError(file.filename, `${obj.path}@${key}`, `expected a list of strings, found ${describe(v)}`);
  };
  if (name in attrs) return one(name);
  if (!(`${name}0` in attrs)) return undefined;
  const out: string[] = [];
  for (let i = 0; `${name}${i}` in attrs; i++) out.push(...one(`${name}${i}`));
  return out;
}

/**
 * Writes a list of strings as a fixed-length string array attribute, as
 * h5py does for a numpy `|S` array; past HDF5's 64 KB object-header limit it
 * is split into `name0`, `name1`, ... exactly as Keras's
 * `save_attributes_to_hdf5_group` splits it. An empty list is an empty
 * float64 array, as h5py writes `[]`.
 */
export function writeStringListAttr(obj: H5Group, name: string, values: readonly string[]): void {
  if (values.length === 0) {
    obj.create_attribute(name, new Float64Array(0), [0], '<d');
    return;
  }
  const width = Math.max(1, ...values.map((s) => Buffer.byteLength(s, 'utf8')));
  const bad = values.filter((s) => Buffer.byteLength(s, 'utf8') > HDF5_OBJECT_HEADER_LIMIT);
  if (bad.length > 0)
    throw new Hdf5FormatError('', `${obj.path}@${name}`, `a name longer than ${HDF5_OBJECT_HEADER_LIMIT} bytes cannot be saved: '${bad[0].slice(0, 40)}...'`);
  let chunks = 1;
  const split = (n: number): string[][] => arraySplit(values, n);
  while (split(chunks).some((c) => c.length * width > HDF5_OBJECT_HEADER_LIMIT)) chunks++;
  if (chunks === 1) obj.create_attribute(name, [...values], [values.length], `S${width}`);
  else split(chunks).forEach((c, i) => obj.create_attribute(`${name}${i}`, [...c], [c.length], `S${width}`));
}

/** numpy's `array_split`: n nearly equal parts, the first ones one longer. */
function arraySplit<T>(values: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  const base = Math.floor(values.length / n);
  const extra = values.length % n;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const len = base + (i < extra ? 1 : 0);
    out.push(values.slice(at, at + len));
    at += len;
  }
  return out;
}

export function joinPath(parent: string, child: string): string {
  return `${parent === '/' ? '' : parent}/${child}`;
}
