import type { Dataset } from './dataset.js';
import type { Example } from './element.js';
import { indexedDataset } from './internal/indexed.js';
import { loadH5 } from '../src/core/hdf5.js';
import { inspect, readRows } from './internal/hdf5-rows.js';
import { exampleColumns, type Hdf5Columns } from './internal/hdf5-example.js';

export interface FromHdf5Options extends Hdf5Columns {
  /** First row (default 0), as Keras's HDF5Matrix `start`. */
  start?: number;
  /** One past the last row (default: the data sets' row count), as HDF5Matrix `end`. */
  end?: number;
  /** Most rows read by one hyperslab read (default 128). */
  sliceRows?: number;
  /** Called once per contiguous range of rows read (instrumentation: rows held, I/O pattern). */
  onRead?: (range: { start: number; end: number }) => void;
}

/**
 * Keras's HDF5Matrix as a data set: rows `[start, end)` of one or more HDF5
 * data sets, read with h5wasm a slice at a time (never the whole file). The
 * promise resolves once the file has been checked: a missing file, a missing
 * data set or a range outside it rejects with Hdf5FormatError or
 * Hdf5RangeError naming the file, data set and range. The result is
 * indexable (shuffle permutes rows; sequential passes read contiguous slices).
 */
export async function fromHdf5(file: string, options: FromHdf5Options): Promise<Dataset<Example>> {
  const h5 = await loadH5();
  const layout = exampleColumns(options);
  const { columns, start, end } = inspect(h5, file, layout.names, options.start ?? 0, options.end);
  return indexedDataset<Example>(
    {
      length: end - start,
      read(indices) {
        const cols = readRows(h5, file, columns, start, indices, options.onRead);
        return Array.from(indices, (_, k) => layout.example(cols.map((c) => c[k])));
      },
    },
    {},
    options.sliceRows ?? 128,
  );
}
