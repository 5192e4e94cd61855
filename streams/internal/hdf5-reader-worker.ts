import { parentPort, workerData } from 'node:worker_threads';
import { Hdf5ReadError } from '../../src/core/errors.js';
import { loadH5, type H5File } from '../../src/core/hdf5.js';
import { openColumns, openForReading, readRunsInto, type ColumnArray, type OpenColumn } from './hdf5-slices.js';
import { slotViews, type ReaderConfig, type ToMain, type ToReader } from './hdf5-reader-protocol.js';

/**
 * The reader thread (one per pass, with its own h5wasm): reads the rows it
 * is asked for into the slot named in the request, marks the slot with the
 * request's sequence number, and says so. It reads only when asked, so it
 * never holds more than the main thread's ring. On `close` it closes the
 * file and lets the thread end.
 */
const port = parentPort!;
const config = workerData.config as ReaderConfig;
// This thread's own h5wasm (the bootstrap imported it already): HDF5 errors become exceptions (with their cause) instead of stderr output.
const h5wasm = await loadH5();
const module = await h5wasm.ready;
module.activate_throwing_error_handler();
const slots = new Map<number, { seq: Int32Array; columns: ColumnArray[] }>();
let file: H5File | undefined;
let columns: OpenColumn[] | undefined;

const post = (m: ToMain): void => port.postMessage(m);

port.on('message', (m: ToReader) => {
  if (m.type === 'close') {
    file?.close();
    file = columns = undefined;
    port.close();
    return;
  }
  if (m.buffer) slots.set(m.slot, slotViews(m.buffer, config.columns, config.batchRows));
  const slot = slots.get(m.slot)!;
  const first = m.runs[0];
  try {
    if (!file) {
      const rows: [number, number] = [first[0], first[0] + first[1]];
      file = openForReading(h5wasm, config.file, config.columns[0], rows);
      columns = openColumns(h5wasm, file, config.file, config.columns, rows);
    }
    readRunsInto(module, config.file, columns!, m.runs, slot.columns);
    Atomics.store(slot.seq, 0, m.seq);
    post({ type: 'ready', slot: m.slot, seq: m.seq });
  } catch (err) {
    const e = err instanceof Hdf5ReadError ? err : new Hdf5ReadError(config.file, config.columns[0].name, [first[0], first[0] + first[1]], String(err));
    post({ type: 'error', dataset: e.dataset, rows: [e.rows[0], e.rows[1]], detail: e.detail });
  }
});
