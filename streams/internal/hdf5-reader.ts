import { Worker } from 'node:worker_threads';
import { Hdf5ReadError } from '../../src/core/errors.js';
import type { ColumnInfo } from './hdf5-rows.js';
import { slotBuffer, slotViews, type ToMain, type ToReader } from './hdf5-reader-protocol.js';
import { rowSize, type ColumnArray, type Run } from './hdf5-slices.js';

/** A pass's reader thread, for instrumentation (tests wait for `exited`). */
export interface ReaderThread {
  readonly threadId: number;
  /** Resolves with the exit code once the thread has ended. */
  readonly exited: Promise<number>;
}

/** A view on a slot's rows, lent to the consumer: give it back with `release` (once; later calls do nothing). */
export interface LentArray {
  readonly data: ColumnArray;
  release(): void;
}

export interface BatchReaderHandlers {
  /** A requested batch, in request order: one view per column on its slot, `rows` rows each; the slot is reused once every view is released. */
  batch(columns: LentArray[], rows: number): void;
  /** Called at most once; the reader is closed by whoever handles it. */
  error(err: unknown): void;
}

export interface BatchReader {
  /** Asks the thread for the rows `runs` (at most a slot's rows in all), into a free slot or a new one. */
  request(runs: Run[]): void;
  /** Requests sent and not yet answered: the slots in use. */
  inFlight(): number;
  /** Tells the thread to close the file and end; answers still on their way are dropped. Idempotent. */
  close(): void;
}

/** The thread's program: TypeScript when running from source (tsx), JavaScript from dist/. */
const fromSource = import.meta.url.endsWith('.ts');
const entry = new URL(fromSource ? './hdf5-reader-worker.ts' : './hdf5-reader-worker.js', import.meta.url);

/**
 * Worker threads do not inherit the parent's module hooks (Node 20), so the
 * thread starts from CommonJS that registers tsx when running from source.
 * h5wasm is imported first, by Node itself: loaded through tsx's transform,
 * its 4 MB single-file module took ~8 s and ~600 MB more RSS (measured).
 */
const BOOTSTRAP = `const { workerData } = require('node:worker_threads');
(async () => {
  await import(workerData.h5wasm);
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((e) => setImmediate(() => { throw e; }));`;

/**
 * The main thread's side of one pass's reader thread: a ring of
 * SharedArrayBuffer slots of `batchRows` rows, grown only when a request
 * finds no free slot (so the ring is as deep as the demand the consumer
 * chose, plus the batches it holds). A filled slot's views are lent to the
 * consumer, which may read them in place (the compiled step does: no copy on
 * this thread); the slot is reused once they are released. The thread is
 * referenced only while requests are in flight: an idle pass never keeps
 * the process alive; once closed, until it has ended.
 */
export function startBatchReader(file: string, columns: ColumnInfo[], batchRows: number, handlers: BatchReaderHandlers, onThread?: (t: ReaderThread) => void): BatchReader {
  const worker = new Worker(BOOTSTRAP, {
    eval: true,
    // none of the parent's flags: `--input-type=module` would make the bootstrap ESM
    execArgv: [],
    workerData: {
      h5wasm: import.meta.resolve('h5wasm/node'),
      tsx: fromSource ? import.meta.resolve('tsx/esm/api') : undefined,
      entry: entry.href,
      config: { file, columns, batchRows },
    },
  });
  worker.unref();
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  onThread?.({ threadId: worker.threadId, exited });
  const views: ReturnType<typeof slotViews>[] = [];
  const free: number[] = [];
  const queue: { slot: number; seq: number; runs: Run[]; rows: number }[] = [];
  let seq = 0;
  /** No more answers are handed on (failed or closed). */
  let done = false;
  let closed = false;

  const rowsOf = (runs: readonly Run[]): [number, number] => [runs[0][0], runs[0][0] + runs[0][1]];
  const fail = (err: unknown): void => {
    if (done) return;
    done = true;
    worker.unref();
    handlers.error(err);
  };
  const stopped = (detail: string): Hdf5ReadError => {
    const head = queue[0];
    return new Hdf5ReadError(file, columns[0].name, head ? rowsOf(head.runs) : [0, 0], `the reader thread ${detail}`);
  };
  worker.on('error', (err) => fail(stopped(`failed: ${err.message}`)));
  void exited.then((code) => fail(stopped(`exited with code ${code}`)));
  worker.on('message', (m: ToMain) => {
    if (done) return;
    if (m.type === 'error') {
      fail(new Hdf5ReadError(file, m.dataset, m.rows, m.detail));
      return;
    }
    const head = queue.shift();
    const slot = head && views[head.slot];
    if (!head || !slot || head.slot !== m.slot || head.seq !== m.seq || Atomics.load(slot.seq, 0) !== m.seq) {
      fail(stopped(`answered out of order (slot ${m.slot}, request ${m.seq})`));
      return;
    }
    // Atomics.load above orders the consumer's reads after the thread's writes.
    const out = lend(head.slot, slot.columns.map((a, i) => a.subarray(0, head.rows * rowSize(columns[i]))));
    if (queue.length === 0) worker.unref();
    try {
      handlers.batch(out, head.rows);
    } catch (err) {
      fail(err);
    }
  });

  /** The slot's views as lent arrays; the slot is free again once all are released. */
  const lend = (slot: number, views: ColumnArray[]): LentArray[] => {
    let held = views.length;
    return views.map((data) => {
      let lent = true;
      return {
        data,
        release: () => {
          if (!lent) return;
          lent = false;
          if (--held === 0) free.push(slot);
        },
      };
    });
  };

  return {
    request(runs) {
      if (done) return;
      const rows = runs.reduce((n, r) => n + r[1], 0);
      let slot = free.pop();
      let buffer: SharedArrayBuffer | undefined;
      if (slot === undefined) {
        buffer = slotBuffer(columns, batchRows);
        slot = views.push(slotViews(buffer, columns, batchRows)) - 1;
      }
      queue.push({ slot, seq: ++seq, runs, rows });
      if (queue.length === 1) worker.ref();
      const m: ToReader = { type: 'read', slot, seq, runs, ...(buffer && { buffer }) };
      worker.postMessage(m);
    },
    inFlight: () => queue.length,
    close() {
      if (closed) return;
      closed = true;
      done = true;
      // held until the thread has closed the file and ended (it answers between two reads)
      worker.ref();
      worker.postMessage({ type: 'close' } satisfies ToReader);
    },
  };
}
