import { existsSync, renameSync, rmSync } from 'node:fs';
import * as ops from '../src/ops/index.js';
import { Dataset, FIRST_PASS } from './dataset.js';
import { disposeAll, type Example, type TensorStructure } from './element.js';
import { cloneTree, disposeTree } from '../src/core/tree.js';
import { loadH5 } from '../src/core/hdf5.js';
import { readRows, type ColumnInfo } from './internal/hdf5-rows.js';
import { indexRange, stage } from './internal/stage.js';

export interface CacheOptions {
  /**
   * Cache to this HDF5 file instead of memory, for data that does not fit.
   * The first complete pass writes `<file>.partial` block by block and renames
   * it; later passes (and later runs: an existing file is reused, as tf.data
   * does) read it back a slice at a time. Elements must be `Example`s.
   */
  file?: string;
  /** Rows per HDF5 write or read (default 128). */
  blockRows?: number;
}

/** A cached data set; `release()` frees what the cache holds in memory. */
export class CachedDataset<T> extends Dataset<T> {
  constructor(
    open: Dataset<T>['open'],
    readonly release: () => void,
  ) {
    super(open);
  }
}

/**
 * Records the first complete pass and replays it afterwards without touching
 * the source. A pass that ends early (unsubscribed, failed) discards what it
 * recorded. In memory the cache owns clones (call `release()` when done);
 * with `file`, rows go to HDF5 and only a block is in memory at a time.
 * Put it before `shuffle`, which then reshuffles the cached rows per epoch.
 */
export function cache<T>(): (source: Dataset<T>) => CachedDataset<T>;
export function cache(options: CacheOptions & { file: string }): (source: Dataset<Example>) => CachedDataset<Example>;
export function cache<T>(options: CacheOptions): (source: Dataset<T>) => CachedDataset<T>;
export function cache<T>(options: CacheOptions = {}): (source: Dataset<T>) => CachedDataset<T> {
  return options.file === undefined ? memoryCache<T>() : (fileCache(options.file, options.blockRows ?? 128) as unknown as (s: Dataset<T>) => CachedDataset<T>);
}

function memoryCache<T>(): (source: Dataset<T>) => CachedDataset<T> {
  return (source) => {
    let stored: T[] | undefined;
    let recording = false;
    const open: Dataset<T>['open'] = (demand, pass = FIRST_PASS) =>
      stage<T>(demand, pass, (io) => {
        if (stored) {
          const rows = stored;
          let next = 0;
          return {
            pull() {
              while (io.wanted() > 0 && next < rows.length) io.emit(cloneTree(rows[next++]));
              if (next >= rows.length) io.complete();
            },
          };
        }
        const record = !recording;
        recording ||= record;
        let buffer: T[] = [];
        const up = io.connect(source, {
          next(v) {
            if (record) buffer.push(cloneTree(v));
            io.emit(v);
          },
          complete() {
            if (record) {
              stored = buffer;
              buffer = [];
              recording = false;
            }
            io.complete();
          },
        });
        return {
          pull() {
            const need = io.wanted() - up.outstanding();
            if (need > 0) up.request(need);
          },
          teardown() {
            if (record && buffer.length > 0) {
              disposeAll(buffer);
              buffer = [];
              recording = false;
            }
          },
        };
      });
    return new CachedDataset<T>(open, () => {
      if (stored) disposeAll(stored);
      stored = undefined;
    });
  };
}

const LEAVES = ['x', 'y', 'sampleWeight'] as const;

function leavesOf(e: Example): [string, ops.Tensor][] {
  const out: [string, ops.Tensor][] = [];
  for (const k of LEAVES) {
    const v = e[k];
    if (v === undefined) continue;
    if (v instanceof ops.Tensor) out.push([k, v]);
    else if (Array.isArray(v)) v.forEach((t, i) => out.push([`${k}.${i}`, t as ops.Tensor]));
    else throw new TypeError(`cache({ file }): '${k}' must be a tensor or an array of tensors`);
  }
  return out;
}

function exampleOf(paths: string[], row: ops.Tensor[]): Example {
  const e: Record<string, TensorStructure> = {};
  paths.forEach((p, i) => {
    const [k, sub] = p.split('.');
    if (sub === undefined) e[k] = row[i];
    else ((e[k] ??= []) as ops.Tensor[])[Number(sub)] = row[i];
  });
  return e as unknown as Example;
}

function fileCache(file: string, blockRows: number): (source: Dataset<Example>) => CachedDataset<Example> {
  return (source) => {
    let recording = false;
    const open: Dataset<Example>['open'] = (demand, pass = FIRST_PASS) =>
      stage<Example>(demand, pass, (io) => {
        let h5: Awaited<ReturnType<typeof loadH5>> | undefined;
        let failed = false;
        loadH5().then(
          (m) => {
            h5 = m;
            io.wake();
          },
          (err) => {
            failed = true;
            io.error(err);
          },
        );
        let mode: 'read' | 'write' | 'through' | undefined;
        // read mode
        let columns: ColumnInfo[] = [];
        let paths: string[] = [];
        let rows = 0;
        let next = 0;
        // write mode
        let writer: InstanceType<Awaited<ReturnType<typeof loadH5>>['File']> | undefined;
        let pending: [string, ops.Tensor][][] = [];
        let written = 0;
        const partial = `${file}.partial`;
        const flush = (): void => {
          if (!writer || pending.length === 0) return;
          const first = pending[0];
          first.forEach(([path, t], li) => {
            let d = writer!.get(path) as InstanceType<NonNullable<typeof h5>['Dataset']> | null;
            if (d === null) {
              d = writer!.create_dataset({
                name: path,
                data: t.dtype === 'int32' ? new Int32Array(0) : new Float32Array(0),
                shape: [0, ...t.shape],
                maxshape: [null, ...t.shape],
                chunks: [Math.min(blockRows, 64), ...t.shape],
              });
            }
            const size = t.size;
            const block = t.dtype === 'int32' ? new Int32Array(size * pending.length) : new Float32Array(size * pending.length);
            pending.forEach((row, r) => block.set(row[li][1].dataSync() as Float32Array, r * size));
            d.resize([written + pending.length, ...t.shape]);
            d.write_slice([[written, written + pending.length]], block);
          });
          if (written === 0) writer.create_attribute('rxkeras_paths', JSON.stringify(first.map(([p]) => p)));
          written += pending.length;
          pending.forEach((row) => row.forEach(([, t]) => t.dispose()));
          pending = [];
        };
        let up: ReturnType<typeof io.connect> | undefined;
        const start = (): void => {
          if (existsSync(file)) {
            mode = 'read';
            const f = new h5!.File(file, 'r');
            try {
              paths = JSON.parse(String(f.attrs['rxkeras_paths']?.value ?? '[]')) as string[];
              columns = paths.map((name) => {
                const d = f.get(name) as InstanceType<NonNullable<typeof h5>['Dataset']>;
                const shape = d.shape ?? [0];
                rows = shape[0];
                return { name, rowShape: shape.slice(1), dtype: (d.metadata as { type: number }).type === 0 ? 'int32' : 'float32', rows: shape[0] };
              });
            } finally {
              f.close();
            }
            return;
          }
          mode = recording ? 'through' : 'write';
          if (mode === 'write') {
            recording = true;
            writer = new h5!.File(partial, 'w');
          }
          up = io.connect(source, {
            next(v) {
              if (writer) {
                pending.push(leavesOf(v).map(([p, t]) => [p, ops.clone(t)]));
                if (pending.length >= blockRows) flush();
              }
              io.emit(v);
            },
            complete() {
              if (writer) {
                flush();
                writer.close();
                writer = undefined;
                renameSync(partial, file);
                recording = false;
              }
              io.complete();
            },
          });
        };
        return {
          pull() {
            if (!h5 || failed) return;
            if (mode === undefined) start();
            if (mode === 'read') {
              const n = Math.min(io.wanted(), blockRows, rows - next);
              if (n > 0) {
                const cols = readRows(h5, file, columns, 0, indexRange(next, n));
                next += n;
                for (let k = 0; k < n; k++) io.emit(exampleOf(paths, cols.map((c) => c[k])));
              }
              if (next >= rows) io.complete();
              return;
            }
            const need = io.wanted() - (up?.outstanding() ?? 0);
            if (need > 0) up?.request(need);
          },
          teardown() {
            pending.forEach((row) => row.forEach(([, t]) => disposeTree(t)));
            pending = [];
            if (writer) {
              writer.close();
              writer = undefined;
              rmSync(partial, { force: true });
              recording = false;
            }
          },
        };
      });
    return new CachedDataset<Example>(open, () => undefined);
  };
}
