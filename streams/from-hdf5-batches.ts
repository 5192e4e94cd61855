import * as ops from '../src/ops/index.js';
import { InvalidArgumentError } from '../src/core/errors.js';
import type { Dataset, Indexed } from './dataset.js';
import { disposeAll, type Example } from './element.js';
import { indexedDataset } from './internal/indexed.js';
import { loadH5 } from '../src/core/hdf5.js';
import { inspect, type ColumnInfo } from './internal/hdf5-rows.js';
import { exampleColumns, type Hdf5Columns } from './internal/hdf5-example.js';
import { startBatchReader, type BatchReader, type LentArray, type ReaderThread } from './internal/hdf5-reader.js';
import { openColumns, openForReading, readRunsInto, rowSize, type ColumnArray, type Run } from './internal/hdf5-slices.js';
import { stage } from './internal/stage.js';

export interface FromHdf5BatchesOptions extends Hdf5Columns {
  /** Rows per batch: batch `j` is rows `[start + j * batchSize, start + (j + 1) * batchSize)`. */
  batchSize: number;
  /** Drop a last batch smaller than `batchSize` (default false: Keras keeps it). */
  dropRemainder?: boolean;
  /** First row (default 0), as Keras's HDF5Matrix `start`. */
  start?: number;
  /** One past the last row (default: the data sets' row count), as HDF5Matrix `end`. */
  end?: number;
  /** Called on the main thread when a batch's rows are asked for (instrumentation: rows held, I/O pattern). */
  onRead?: (range: { start: number; end: number }) => void;
  /** Called with each pass's reader thread when it starts (instrumentation: tests wait for it to end). */
  onReader?: (thread: ReaderThread) => void;
}

/**
 * Rows `[start, end)` of HDF5 data sets as a data set of batches, read by a
 * worker thread: each pass starts a thread with its own h5wasm that reads one
 * contiguous slice per batch into SharedArrayBuffer slots, and the main
 * thread only turns a filled slot into tensors (no per-row tensors, no
 * stacking). The thread reads only the batches the consumer asked for (the
 * ring is as deep as the prefetch chosen downstream), and ends with the pass
 * (complete, error or unsubscribe), closing the file.
 *
 * Indexed by batch: `shuffle` permutes the batches each epoch (rows inside a
 * batch stay together), `take`, `skip`, `shard` and `splitValidation` select
 * batches, and their passes still read through the thread. The promise
 * rejects as fromHdf5's does (missing file, data set, range); a read that
 * fails during a pass errors it with Hdf5ReadError naming the file, data set
 * and rows.
 */
export async function fromHdf5Batches(file: string, options: FromHdf5BatchesOptions): Promise<Dataset<Example>> {
  const size = options.batchSize;
  if (!Number.isInteger(size) || size < 1) throw new InvalidArgumentError('fromHdf5Batches batchSize', 'a positive integer', size);
  const h5 = await loadH5();
  const h5module = await h5.ready;
  const layout = exampleColumns(options);
  const { columns, start, end } = inspect(h5, file, layout.names, options.start ?? 0, options.end);
  const rows = end - start;
  const length = options.dropRemainder ? Math.floor(rows / size) : Math.ceil(rows / size);
  if (length === 0) throw new InvalidArgumentError('fromHdf5Batches batchSize', `at most the ${rows} rows of [${start}, ${end}) with dropRemainder`, size);
  const runOf = (j: number): Run => {
    const first = start + j * size;
    options.onRead?.({ start: first, end: first + Math.min(size, end - first) });
    return [first, Math.min(size, end - first)];
  };
  const toExample = (arrays: ColumnArray[], n: number): Example => ops.tidy(() => layout.example(arrays.map((a, i) => tensorOf(a, n, columns[i]))) as never) as Example;
  /** The reader's slot views become the tensors' data (without a copy where steps are compiled). */
  const toLentExample = (arrays: LentArray[], n: number): Example => {
    try {
      return ops.tidy(() => layout.example(arrays.map((a, i) => ops.lentTensor(a.data, [n, ...columns[i].rowShape], columns[i].dtype, a.release))) as never) as Example;
    } catch (err) {
      for (const a of arrays) a.release(); // (releasing twice does nothing)
      throw err;
    }
  };

  const indexed: Indexed<Example> = {
    length,
    /** Random access on the main thread (zip, or a map before an index operator); passes use openOrder. */
    read(indices) {
      if (indices.length === 0) return [];
      const runs = Array.from(indices, runOf);
      const first: [number, number] = [runs[0][0], runs[0][0] + runs[0][1]];
      const f = openForReading(h5, file, columns[0], first);
      let arrays: { data: ColumnArray[]; n: number }[];
      try {
        const open = openColumns(h5, f, file, columns, first);
        arrays = runs.map((run) => {
          const data = columns.map((c) => (c.dtype === 'int32' ? new Int32Array(run[1] * rowSize(c)) : new Float32Array(run[1] * rowSize(c))));
          readRunsInto(h5module, file, open, [run], data);
          return { data, n: run[1] };
        });
      } finally {
        f.close();
      }
      const out: Example[] = [];
      try {
        for (const a of arrays) out.push(toExample(a.data, a.n));
      } catch (err) {
        disposeAll(out);
        throw err;
      }
      return out;
    },
    openOrder: (at, n, demand, pass) =>
      stage<Example>(demand, pass, (io) => {
        let next = 0;
        // started on the first request: a pass that asks for nothing starts no thread
        let reader: BatchReader | undefined;
        const inFlight = (): number => reader?.inFlight() ?? 0;
        return {
          pull() {
            while (next < n && io.wanted() - inFlight() > 0) {
              reader ??= startBatchReader(file, columns, size, { batch: (arrays, k) => io.emit(toLentExample(arrays, k)), error: io.error }, options.onReader);
              reader.request([runOf(at(next++))]);
            }
            if (next >= n && inFlight() === 0) io.complete();
          },
          teardown: () => reader?.close(),
        };
      }),
  };
  return indexedDataset(indexed);
}

/** One tensor of `n` rows of a column; the array becomes the tensor's data. */
function tensorOf(data: ColumnArray, n: number, column: ColumnInfo): ops.Tensor {
  return ops.tensor(data, [n, ...column.rowShape], column.dtype);
}
