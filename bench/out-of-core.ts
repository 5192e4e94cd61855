/**
 * `npm run bench:ooc`: the out-of-core proof of issue 3, item 4, and of
 * issue 10, item 4 (the input pipeline keeps up with a faster step).
 *
 * 1. Writes an HDF5 data set larger than 2 GiB into os.tmpdir() with h5wasm,
 *    one block of rows in memory at a time (data sets created with
 *    `maxshape [null, cols]`, chunked, grown with `resize` + `write_slice`).
 *    The data are deterministic: x uniform in [0, 1) from a seeded generator,
 *    y the one-hot argmax of a fixed random linear teacher, so the model can
 *    learn. A file that already carries the completion marker (written last)
 *    and has the expected size is reused; it is deleted at the end unless
 *    KEEP_FILE=1.
 * 2. Measures the pipeline's own capacity: batches from disk delivered to a
 *    consumer that does nothing but dispose them (rows/s), and the main
 *    thread's busy time per batch (event-loop utilisation): the part of the
 *    training step's thread the pipeline takes.
 * 3. Trains the same MLP (784-256-10, Adam, batch 256, same seed) for the
 *    same number of steps, after the same number of warm-up steps, each run
 *    in its own child process, rounds alternating (disk, memory, resident,
 *    then the reverse) so a drifting machine load weighs on all alike:
 *    (a) disk: by default (OOC_SOURCE=worker) fromHdf5Batches: a worker
 *        thread reads one contiguous slice per batch into shared buffers and
 *        the main thread only wraps them into tensors; batches in a new
 *        order every epoch (shuffle); -> prefetch(k), streamed through
 *        model.fit(dataset, { stepsPerEpoch, prefetch }). OOC_SOURCE=rows is
 *        the main-thread path for comparison: fromHdf5 (sliceRows OOC_SLICE,
 *        one tensor per row) -> block shuffle -> batch(256) -> prefetch(k);
 *    (b) memory, the issue's baseline: the first OOC_MEM_ROWS rows of the
 *        same file as whole-data tensors through model.fit(x, y) (shuffle
 *        true: a gather per batch), as many epochs as the steps need;
 *    (c) resident, a reference floor: the same rows as ready-made batch
 *        tensors, cloned per step through the same Dataset path.
 * 4. Prints the throughputs; the process's CPU time per batch (all threads)
 *    of the capacity run and of the disk and memory steps, which other jobs
 *    on a shared machine inflate far less than wall time, also split by kind
 *    of thread (main, reader, ONNX Runtime's, and those there before the run:
 *    V8's GC and compiler threads, libuv's, wasm's; see threadKind);
 *    `out-of-core pipeline rows/s: P` with its headroom over the in-memory
 *    step (P / memory samples/s),
 *    `out-of-core throughput ratio: R` (disk over memory samples/s), the
 *    disk/resident ratio and `out-of-core peak RSS MB: M`.
 *
 * Shuffling on disk is at the level of contiguous blocks: whole batches
 * (worker) or chunk-aligned blocks of OOC_BLOCK rows (rows); the order of the
 * blocks is a fresh permutation every epoch, rows inside a block keep their
 * order. Every read is one contiguous hyperslab of whole chunks, never a
 * random row.
 *
 * The in-memory baseline takes its batches with Slice / Gather, which
 * rxkeras's wasm kernels copy straight from the heap (src/ops/tfjs/kernels:
 * slice.ts, gather-rows.ts). Disk / resident is the cost of streaming
 * itself. On 2 cores the step keeps both busy, so what the main thread does
 * per batch is not hidden by prefetching: on the rows path it reads, makes a
 * tensor per row and stacks; on the worker path it only wraps the reader's
 * filled slot into tensors (lent to the compiled step, which reads the slot
 * in place), and the reads run on the worker thread.
 *
 * Peak RSS, honestly: the disk run is a fresh process, so its figure is not
 * inflated by the file write (h5wasm's heap grows to a block) nor by the
 * in-memory runs (their data live in the tfjs heap, which never shrinks). M
 * is the largest, over the disk runs, of the kernel's maxRSS for the child
 * (process.resourceUsage(): the lifetime peak of a process that only loaded
 * the backend, built the model and trained from disk; it includes the
 * reader thread) and the peak of process.memoryUsage().rss sampled every
 * 50 ms during the run. The children preload h5wasm (`--import`) before
 * tsx's loader: loaded through tsx, the 4.2 MB single-file h5wasm module
 * costs ~565 MB of extra RSS that stays (80 MB plain node vs 675 MB under
 * tsx, measured), an artefact of the TypeScript runner that plain node
 * (compiled code) does not have; the reader thread does the same.
 *
 * After the write (or a previous run) the file is normally in the OS page
 * cache (24 GiB RAM here): R is the cost of the streaming path (HDF5 reads,
 * tensor creation, batching), not of a cold disk.
 *
 * Environment: OOC_ROWS (rows in the file, default 700416: 2.2 GB),
 * OOC_STEPS (timed steps, default 1500: rounds of 500 steps, ~2 s, swung
 * by 30% between runs on this machine), OOC_WARMUP (default 30),
 * OOC_BATCH (256), OOC_ROUNDS (default 2), OOC_PREFETCH (fit's prefetch,
 * default 2), OOC_PIPE_PREFETCH (the pipeline's prefetch(k), default 2),
 * OOC_PIPE_BATCHES (batches timed by the capacity run, default 2000),
 * OOC_SOURCE (worker | rows), OOC_SLICE (fromHdf5 sliceRows, default 1024),
 * OOC_BLOCK (rows path's shuffle block rows, default 1024), OOC_CHUNK (chunk
 * rows, default 128), OOC_MEM_ROWS (rows of the in-memory sets, default
 * 131072), OOC_MEM_SHUFFLE (1), OOC_RESIDENT (1: run the reference),
 * OOC_FILE, KEEP_FILE=1.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { tap } from 'rxjs';
import * as tf from '@tensorflow/tfjs-core';
import h5wasm from 'h5wasm/node';
import * as rx from '../src/index.js';
import {
  batch, disposeValue, fromHdf5, fromHdf5Batches, indexedDataset, prefetch, shuffle, toAsyncIterable, type Dataset, type Example, type Indexed,
} from '../streams/index.js';

const env = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected a non-negative integer, got '${v}'`);
  return n;
};

const COLS = 784;
const CLASSES = 10;
const SEED = 20240611;
const ROWS = env('OOC_ROWS', 700_416);
const STEPS = env('OOC_STEPS', 1500);
const WARMUP = env('OOC_WARMUP', 30);
const BATCH = env('OOC_BATCH', 256);
const FIT_PREFETCH = env('OOC_PREFETCH', 2);
const PIPE_PREFETCH = env('OOC_PIPE_PREFETCH', 2);
const SLICE = env('OOC_SLICE', 1024);
const BLOCK = env('OOC_BLOCK', 1024);
const CHUNK = env('OOC_CHUNK', 128);
const MEM_ROWS = env('OOC_MEM_ROWS', 131_072);
const SOURCE = process.env.OOC_SOURCE === 'rows' ? 'rows' : 'worker';
const PIPE_BATCHES = env('OOC_PIPE_BATCHES', 2000);
const ROUNDS = Math.max(1, env('OOC_ROUNDS', 2));
const RESIDENT = env('OOC_RESIDENT', 1) === 1;
const MEM_SHUFFLE = env('OOC_MEM_SHUFFLE', 1) === 1;
const WRITE_BLOCK = 8192;
const FILE = process.env.OOC_FILE || join(tmpdir(), `rxkeras-ooc-${ROWS}x${COLS}-c${CHUNK}.h5`);
const MARKER = JSON.stringify({ rows: ROWS, cols: COLS, classes: CLASSES, seed: SEED, chunk: CHUNK, version: 1 });
/** Raw data bytes; the file is this plus HDF5's metadata (chunk index, headers). */
const DATA_BYTES = ROWS * (COLS + CLASSES) * 4;

type Mode = 'pipeline' | 'disk' | 'memory' | 'resident';

interface RunResult {
  mode: Mode;
  samplesPerSecond: number;
  seconds: number;
  steps: number;
  loss: number;
  sampledPeakRssMB: number;
  maxRssMB: number;
  rowsRead?: number;
  /** CPU time of the whole process (all its threads) per timed batch: unlike wall time, hardly inflated by other jobs. */
  cpuMsPerBatch: number;
  /** Capacity run: main-thread busy milliseconds per batch delivered. */
  mainMsPerBatch?: number;
  /** CPU ms per timed batch by kind of thread (see threadKinds). */
  threadMsPerBatch: Record<string, number>;
}

// ---------------------------------------------------------------- data

/** mulberry32: a small, fast, seeded 32-bit generator. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function teacher(): Float32Array {
  const next = rng(SEED);
  return Float32Array.from({ length: COLS * CLASSES }, () => next() * 2 - 1);
}

/** Rows [start, start + n): x uniform [0, 1), y one-hot argmax((x - 0.5) W). Seeded per block, so any block is reproducible alone. */
function makeBlock(w: Float32Array, start: number, n: number): { x: Float32Array; y: Float32Array } {
  const next = rng(SEED ^ Math.imul(start + 1, 0x9e3779b1));
  const x = new Float32Array(n * COLS);
  const y = new Float32Array(n * CLASSES);
  const logits = new Float64Array(CLASSES);
  for (let r = 0; r < n; r++) {
    logits.fill(0);
    const base = r * COLS;
    for (let c = 0; c < COLS; c++) {
      const v = next();
      x[base + c] = v;
      const centred = v - 0.5;
      const wr = c * CLASSES;
      for (let k = 0; k < CLASSES; k++) logits[k] += centred * w[wr + k];
    }
    let best = 0;
    for (let k = 1; k < CLASSES; k++) if (logits[k] > logits[best]) best = k;
    y[r * CLASSES + best] = 1;
  }
  return { x, y };
}

function fileIsReady(): boolean {
  if (!existsSync(FILE) || statSync(FILE).size < DATA_BYTES) return false;
  try {
    const f = new h5wasm.File(FILE, 'r');
    try {
      return String(f.attrs['rxkeras_ooc']?.value ?? '') === MARKER;
    } finally {
      f.close();
    }
  } catch {
    return false;
  }
}

/** Streams the data set to disk a block at a time; the marker attribute is written last, so a partial file is never reused. */
async function ensureFile(): Promise<{ seconds: number; reused: boolean }> {
  await h5wasm.ready;
  if (fileIsReady()) return { seconds: 0, reused: true };
  const t0 = performance.now();
  if (existsSync(FILE)) unlinkSync(FILE);
  const w = teacher();
  const f = new h5wasm.File(FILE, 'w');
  try {
    const dx = f.create_dataset({ name: 'x', data: new Float32Array(0), shape: [0, COLS], maxshape: [null, COLS], chunks: [CHUNK, COLS] });
    const dy = f.create_dataset({ name: 'y', data: new Float32Array(0), shape: [0, CLASSES], maxshape: [null, CLASSES], chunks: [Math.max(CHUNK, 1024), CLASSES] });
    for (let start = 0; start < ROWS; start += WRITE_BLOCK) {
      const n = Math.min(WRITE_BLOCK, ROWS - start);
      const { x, y } = makeBlock(w, start, n);
      dx.resize([start + n, COLS]);
      dx.write_slice([[start, start + n]], x);
      dy.resize([start + n, CLASSES]);
      dy.write_slice([[start, start + n]], y);
      if ((start / WRITE_BLOCK) % 16 === 15) process.stderr.write(`  written ${start + n} / ${ROWS} rows\n`);
    }
    f.create_attribute('rxkeras_ooc', MARKER);
  } finally {
    f.close();
  }
  return { seconds: (performance.now() - t0) / 1000, reused: false };
}

// ---------------------------------------------------------------- runs

function model(): rx.Sequential {
  const m = new rx.Sequential({
    layers: [rx.Dense({ units: 256, activation: 'relu', input_shape: [COLS] }), rx.Dense({ units: CLASSES, activation: 'softmax' })],
  });
  m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' }, 1);
  return m;
}

/** Peak of process.memoryUsage().rss, sampled every 50 ms (unref'd: it never keeps the process alive). */
function rssSampler(): { peakMB: () => number; stop: () => void } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  timer.unref();
  return { peakMB: () => Math.max(peak, process.memoryUsage.rss()) / 2 ** 20, stop: () => clearInterval(timer) };
}

/** Process CPU time (user + system, every thread) in ms. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Time on CPU (ns) of each of this process's threads, from /proc/self/task/<tid>/schedstat; empty where /proc has none. */
function threadTimes(): Map<number, number> {
  const times = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return times;
  }
  for (const tid of tids) {
    try {
      times.set(Number(tid), Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // the thread ended in between
    }
  }
  return times;
}

/**
 * Which thread is which, by when it appeared: the main thread; those there
 * before the run (V8's platform threads: GC and compilation; libuv's pool;
 * the wasm backend's threads); the reader thread (appeared when the pass
 * started it); the rest (ONNX Runtime's intra-op threads, made with the
 * first compiled session).
 */
const threads = { startup: new Set<number>(), reader: new Set<number>() };
const markStartupThreads = (): void => void (threads.startup = new Set(threadTimes().keys()));
const markReaderThread = (): void => {
  for (const tid of threadTimes().keys()) if (!threads.startup.has(tid)) threads.reader.add(tid);
};
function threadKind(tid: number): string {
  if (tid === process.pid) return 'main';
  if (threads.reader.has(tid)) return 'reader';
  return threads.startup.has(tid) ? 'V8+libuv+wasm' : 'onnx';
}

/** CPU ms per batch by kind of thread between two threadTimes() snapshots. */
function threadMsPerBatch(before: Map<number, number>, after: Map<number, number>, batches: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [tid, ns] of after) {
    const kind = threadKind(tid);
    out[kind] = (out[kind] ?? 0) + (ns - (before.get(tid) ?? 0)) / 1e6 / batches;
  }
  return out;
}

/** Timestamps (and CPU times) the end of warm-up step WARMUP and of the last step; samples/s over the steps between. */
function stepClock() {
  let seen = 0;
  let t0 = 0;
  let t1 = 0;
  let c0 = 0;
  let c1 = 0;
  let lastLoss = NaN;
  let th0 = new Map<number, number>();
  let th1 = th0;
  const callback: rx.Callback = tap((e: rx.FitEvent) => {
    if (e.type !== 'batchEnd') return;
    seen++;
    if (seen === WARMUP) [t0, c0, th0] = [performance.now(), cpuMs(), threadTimes()];
    if (seen === WARMUP + STEPS) {
      [t1, c1, th1] = [performance.now(), cpuMs(), threadTimes()];
      lastLoss = e.logs.loss ?? NaN;
    }
  });
  return {
    callback,
    result: () => {
      if (seen < WARMUP + STEPS) throw new Error(`only ${seen} steps ran, expected ${WARMUP + STEPS}`);
      const seconds = (t1 - t0) / 1000;
      return { seconds, samplesPerSecond: (STEPS * BATCH) / seconds, loss: lastLoss, cpuMsPerBatch: (c1 - c0) / STEPS, threadMsPerBatch: threadMsPerBatch(th0, th1, STEPS) };
    },
  };
}

/** A seeded Fisher-Yates permutation of [0, n). */
function permutationOf(n: number, seed: number): Int32Array {
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const next = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return perm;
}

/** Block-level shuffle over an indexable source: element i of epoch e is row perm_e[i / BLOCK] * BLOCK + i % BLOCK. Reads stay contiguous. */
function blockShuffled(base: Indexed<Example>, seed: number): Indexed<Example> {
  const blocks = Math.floor(base.length / BLOCK);
  let cached: { epoch: number; perm: Int32Array } | undefined;
  const permFor = (epoch: number): Int32Array => {
    if (cached?.epoch === epoch) return cached.perm;
    cached = { epoch, perm: permutationOf(blocks, seed + 7919 * epoch) };
    return cached.perm;
  };
  return {
    length: blocks * BLOCK,
    read(indices, pass) {
      const perm = permFor(pass.epoch);
      const mapped = new Int32Array(indices.length);
      for (let k = 0; k < indices.length; k++) mapped[k] = perm[Math.floor(indices[k] / BLOCK)] * BLOCK + (indices[k] % BLOCK);
      return base.read(mapped, pass);
    },
  };
}

/** The disk data set of both disk runs, and the rows it read so far. */
async function diskDataset(): Promise<{ dataset: Dataset<Example>; rowsRead: () => number }> {
  let rowsRead = 0;
  const onRead = (r: { start: number; end: number }): void => void (rowsRead += r.end - r.start);
  const need = (WARMUP + Math.max(STEPS, PIPE_BATCHES)) * BATCH;
  if (SOURCE === 'worker') {
    const source = await fromHdf5Batches(FILE, { x: 'x', y: 'y', batchSize: BATCH, dropRemainder: true, onRead, onReader: markReaderThread });
    if (need > (source.length ?? 0) * BATCH) throw new Error(`${need / BATCH} batches of ${BATCH} are needed; the file has ${source.length}`);
    return { dataset: source.pipe(shuffle<Example>({ seed: SEED }), prefetch<Example>(PIPE_PREFETCH)), rowsRead: () => rowsRead };
  }
  const source = await fromHdf5(FILE, { x: 'x', y: 'y', sliceRows: SLICE, onRead });
  const base = source.info.indexed;
  if (!base) throw new Error('fromHdf5 is expected to be indexable');
  if (need > Math.floor(base.length / BLOCK) * BLOCK) throw new Error(`${need / BATCH} batches of ${BATCH} are needed; the file has ${base.length} rows`);
  const dataset = indexedDataset(blockShuffled(base, SEED), { shuffled: true }, SLICE).pipe(batch<Example>(BATCH), prefetch<Example>(PIPE_PREFETCH));
  return { dataset, rowsRead: () => rowsRead };
}

/** The pipeline's capacity: batches delivered to a consumer that only disposes them, with as many asked ahead as fit asks. */
async function runPipeline(): Promise<RunResult> {
  const rss = rssSampler();
  const { dataset, rowsRead } = await diskDataset();
  let seen = 0;
  let t0 = 0;
  let c0 = 0;
  let th0 = new Map<number, number>();
  let elu = performance.eventLoopUtilization();
  for await (const e of toAsyncIterable(dataset, { prefetch: FIT_PREFETCH })) {
    disposeValue(e);
    if (++seen === WARMUP) {
      [t0, c0, th0] = [performance.now(), cpuMs(), threadTimes()];
      elu = performance.eventLoopUtilization();
    }
    if (seen === WARMUP + PIPE_BATCHES) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpuMsPerBatch = (cpuMs() - c0) / PIPE_BATCHES;
  const byThread = threadMsPerBatch(th0, threadTimes(), PIPE_BATCHES);
  const busy = performance.eventLoopUtilization(elu);
  rss.stop();
  return {
    mode: 'pipeline', seconds, samplesPerSecond: (PIPE_BATCHES * BATCH) / seconds, steps: PIPE_BATCHES, loss: NaN, cpuMsPerBatch,
    sampledPeakRssMB: rss.peakMB(), maxRssMB: process.resourceUsage().maxRSS / 1024, rowsRead: rowsRead(), mainMsPerBatch: busy.active / PIPE_BATCHES,
    threadMsPerBatch: byThread,
  };
}

async function runDisk(): Promise<RunResult> {
  const rss = rssSampler();
  const { dataset, rowsRead } = await diskDataset();
  const m = model();
  const clock = stepClock();
  await m.fit(dataset, { epochs: 1, stepsPerEpoch: WARMUP + STEPS, prefetch: FIT_PREFETCH, verbose: 0, callbacks: [clock.callback] });
  const r = clock.result();
  rss.stop();
  m.dispose();
  return { mode: 'disk', ...r, steps: STEPS, sampledPeakRssMB: rss.peakMB(), maxRssMB: process.resourceUsage().maxRSS / 1024, rowsRead: rowsRead() };
}

/** Rows of the in-memory set: what the steps use, up to OOC_MEM_ROWS, whole batches. */
function memRowsUsed(): number {
  const rows = Math.min(MEM_ROWS, (WARMUP + STEPS) * BATCH);
  return rows - (rows % BATCH);
}

/** The first `rows` rows of the file, read in slices, as plain arrays (the in-memory runs' data). */
function loadRows(rows: number): { xs: Float32Array; ys: Float32Array } {
  const f = new h5wasm.File(FILE, 'r');
  try {
    const xs = new Float32Array(rows * COLS);
    const ys = new Float32Array(rows * CLASSES);
    const dx = f.get('x') as InstanceType<typeof h5wasm.Dataset>;
    const dy = f.get('y') as InstanceType<typeof h5wasm.Dataset>;
    for (let s = 0; s < rows; s += WRITE_BLOCK) {
      const e = Math.min(rows, s + WRITE_BLOCK);
      xs.set(dx.slice([[s, e]]) as Float32Array, s * COLS);
      ys.set(dy.slice([[s, e]]) as Float32Array, s * CLASSES);
    }
    return { xs, ys };
  } finally {
    f.close();
  }
}

/** (b) Keras's in-memory path: model.fit(x, y) on whole-data tensors, stopped right after the last timed step. */
async function runMemory(): Promise<RunResult> {
  const rss = rssSampler();
  const rows = memRowsUsed();
  const { xs, ys } = loadRows(rows);
  const x = tf.tensor2d(xs, [rows, COLS]);
  const y = tf.tensor2d(ys, [rows, CLASSES]);
  const m = model();
  const clock = stepClock();
  const epochs = Math.ceil((WARMUP + STEPS) / (rows / BATCH));
  let seen = 0;
  await m.fit(x, y, {
    batchSize: BATCH, epochs, shuffle: MEM_SHUFFLE, verbose: 0,
    callbacks: [clock.callback, tap((e) => {
      if (e.type === 'batchEnd' && ++seen === WARMUP + STEPS) e.control.stop();
    })],
  });
  const r = clock.result();
  rss.stop();
  m.dispose();
  tf.dispose([x, y]);
  return { mode: 'memory', ...r, steps: STEPS, sampledPeakRssMB: rss.peakMB(), maxRssMB: process.resourceUsage().maxRSS / 1024 };
}

/**
 * A reference floor, not the issue's baseline: the same rows held as
 * ready-made batch tensors, each step training on a clone of one (order
 * shuffled per epoch), through the same Dataset path as the disk run. It
 * shows the cost of the training step alone, without the in-memory path's
 * per-batch gather (about 8 ms per batch of 256 x 784 on wasm here).
 */
async function runResident(): Promise<RunResult> {
  const rss = rssSampler();
  const rows = memRowsUsed();
  const { xs, ys } = loadRows(rows);
  const n = rows / BATCH;
  const bx = Array.from({ length: n }, (_, j) => tf.tensor2d(xs.subarray(j * BATCH * COLS, (j + 1) * BATCH * COLS), [BATCH, COLS]));
  const by = Array.from({ length: n }, (_, j) => tf.tensor2d(ys.subarray(j * BATCH * CLASSES, (j + 1) * BATCH * CLASSES), [BATCH, CLASSES]));
  let cached: { epoch: number; perm: Int32Array } | undefined;
  const dataset = indexedDataset<Example>(
    {
      length: n,
      read(indices, pass) {
        if (cached?.epoch !== pass.epoch) cached = { epoch: pass.epoch, perm: permutationOf(n, SEED + 7919 * pass.epoch) };
        const perm = cached.perm;
        return Array.from(indices, (j) => ({ x: tf.clone(bx[perm[j]]), y: tf.clone(by[perm[j]]) }));
      },
    },
    { shuffled: true },
    1,
  ).pipe(prefetch<Example>(PIPE_PREFETCH));
  const m = model();
  const clock = stepClock();
  await m.fit(dataset, { epochs: 1, stepsPerEpoch: WARMUP + STEPS, prefetch: FIT_PREFETCH, verbose: 0, callbacks: [clock.callback] });
  const r = clock.result();
  rss.stop();
  m.dispose();
  tf.dispose([...bx, ...by]);
  return { mode: 'resident', ...r, steps: STEPS, sampledPeakRssMB: rss.peakMB(), maxRssMB: process.resourceUsage().maxRSS / 1024 };
}

// ---------------------------------------------------------------- orchestration

function child(mode: Mode): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // h5wasm is loaded before tsx's loader is registered (see the header).
    const args = ['--import', import.meta.resolve('h5wasm/node'), ...process.execArgv, process.argv[1], mode];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, OOC_FILE: FILE } });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('OOC_RESULT '));
      if (code !== 0 || !line) reject(new Error(`${mode} run exited with ${code}:\n${out}`));
      else resolve(JSON.parse(line.slice('OOC_RESULT '.length)) as RunResult);
    });
  });
}

/** Mean CPU ms per batch of each kind of thread over runs, e.g. `main 4.35, onnx 2.00, reader 0.86, V8+libuv+wasm 1.25`. */
function byThread(rs: RunResult[]): string {
  const kinds = [...new Set(rs.flatMap((r) => Object.keys(r.threadMsPerBatch)))].sort();
  const total = (k: string) => rs.reduce((a, r) => a + (r.threadMsPerBatch[k] ?? 0), 0) / rs.length;
  return kinds.map((k) => `${k} ${total(k).toFixed(2)}`).join(', ');
}

const runs: Record<Mode, () => Promise<RunResult>> = { pipeline: runPipeline, disk: runDisk, memory: runMemory, resident: runResident };
const mode = process.argv[2];
if (mode === 'pipeline' || mode === 'disk' || mode === 'memory' || mode === 'resident') {
  process.env.RXKERAS_QUIET ??= '1';
  await rx.initBackend();
  await h5wasm.ready;
  markStartupThreads();
  const result = await runs[mode]();
  process.stdout.write(`OOC_RESULT ${JSON.stringify(result)}\n`);
} else {
  const backend = await rx.initBackend();
  const load = () => loadavg().map((v) => v.toFixed(2)).join(' ');
  const how = SOURCE === 'worker' ? `fromHdf5Batches (reader thread, one slice per batch), batches shuffled` : `fromHdf5 sliceRows ${SLICE} -> batch on the main thread, shuffle blocks ${BLOCK} rows`;
  console.log(`backend: ${backend}; batch ${BATCH}, ${WARMUP} warm-up + ${STEPS} timed steps; disk source: ${how}; chunk ${CHUNK} rows; prefetch ${PIPE_PREFETCH} (pipeline) + ${FIT_PREFETCH} (fit)`);
  console.log(`load average before: ${load()}`);
  const written = await ensureFile();
  const size = statSync(FILE).size;
  console.log(`file: ${FILE}, ${ROWS} rows, ${(size / 1e9).toFixed(2)} GB (${(size / 2 ** 30).toFixed(2)} GiB), ${written.reused ? 'reused' : `written in ${written.seconds.toFixed(1)} s`}`);
  try {
    // Disk first, each run in a fresh process: neither run's memory shows in the other's RSS.
    // Rounds go disk, memory, memory, disk, ... so a load that drifts during the bench weighs on both alike.
    const results: Record<Mode, RunResult[]> = { pipeline: [], disk: [], memory: [], resident: [] };
    const modes: Mode[] = RESIDENT ? ['disk', 'memory', 'resident'] : ['disk', 'memory'];
    const capacity = await child('pipeline');
    results.pipeline.push(capacity);
    console.log(`  pipeline capacity: ${capacity.samplesPerSecond.toFixed(0)} rows/s to a consumer that does nothing (${capacity.seconds.toFixed(1)} s, CPU ${capacity.cpuMsPerBatch.toFixed(2)} ms per batch, main thread busy ${capacity.mainMsPerBatch!.toFixed(2)} ms per batch, maxRSS ${capacity.maxRssMB.toFixed(0)} MB); load ${load()}`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const m of round % 2 === 0 ? modes : [...modes].reverse()) {
        const r = await child(m);
        results[m].push(r);
        console.log(`  round ${round + 1} ${m}: ${r.samplesPerSecond.toFixed(0)} samples/s (${r.seconds.toFixed(1)} s, CPU ${r.cpuMsPerBatch.toFixed(1)} ms per step: ${byThread([r])}, epoch-mean loss ${r.loss.toFixed(4)}, maxRSS ${r.maxRssMB.toFixed(0)} MB, sampled peak RSS ${r.sampledPeakRssMB.toFixed(0)} MB${r.rowsRead === undefined ? '' : `, ${r.rowsRead} rows read`}); load ${load()}`);
      }
    }
    const mean = (rs: RunResult[]) => rs.reduce((a, r) => a + r.samplesPerSecond, 0) / rs.length;
    const disk = mean(results.disk);
    const memory = mean(results.memory);
    const peak = Math.max(...[...results.disk, ...results.pipeline].map((r) => Math.max(r.maxRssMB, r.sampledPeakRssMB)));
    console.log(`disk (HDF5 stream through fit) samples/s: ${disk.toFixed(0)}`);
    console.log(`memory (model.fit(x, y), ${memRowsUsed()} rows, shuffle ${MEM_SHUFFLE}) samples/s: ${memory.toFixed(0)}`);
    if (RESIDENT) {
      const resident = mean(results.resident);
      console.log(`reference: resident batch tensors samples/s: ${resident.toFixed(0)} (disk / resident: ${(disk / resident).toFixed(2)})`);
    }
    console.log(`out-of-core file size MB: ${(size / 2 ** 20).toFixed(0)}`);
    const cpu = (rs: RunResult[]) => rs.reduce((a, r) => a + r.cpuMsPerBatch, 0) / rs.length;
    console.log(`CPU ms per batch (all threads): pipeline alone ${capacity.cpuMsPerBatch.toFixed(2)}, disk step ${cpu(results.disk).toFixed(1)}, memory step ${cpu(results.memory).toFixed(1)}`);
    const shown = RESIDENT ? (['pipeline', 'disk', 'memory', 'resident'] as const) : (['pipeline', 'disk', 'memory'] as const);
    console.log(`CPU ms per batch by thread: ${shown.map((m) => `${m === 'pipeline' ? 'pipeline alone' : `${m} step`} (${byThread(results[m])})`).join('; ')}`);
    console.log(`out-of-core pipeline rows/s: ${capacity.samplesPerSecond.toFixed(0)} (${(capacity.samplesPerSecond / memory).toFixed(1)}x the in-memory step's samples/s)`);
    console.log(`disk/memory samples/s by round: ${results.disk.map((r, i) => (r.samplesPerSecond / results.memory[i].samplesPerSecond).toFixed(2)).join(', ')}`);
    console.log(`out-of-core throughput ratio: ${(disk / memory).toFixed(2)}`);
    console.log(`out-of-core peak RSS MB: ${peak.toFixed(0)}`);
    console.log(`load average after: ${load()}`);
  } finally {
    if (process.env.KEEP_FILE !== '1') unlinkSync(FILE);
  }
}
