/**
 * `npm run bench:ooc`: the out-of-core proof of issue 3, item 4.
 *
 * 1. Writes an HDF5 data set larger than 2 GiB into os.tmpdir() with h5wasm,
 *    one block of rows in memory at a time (data sets created with
 *    `maxshape [null, cols]`, chunked, grown with `resize` + `write_slice`).
 *    The data are deterministic: x uniform in [0, 1) from a seeded generator,
 *    y the one-hot argmax of a fixed random linear teacher, so the model can
 *    learn. A file that already carries the completion marker (written last)
 *    and has the expected size is reused; it is deleted at the end unless
 *    KEEP_FILE=1.
 * 2. Trains the same MLP (784-256-10, Adam, batch 256, same seed) for the
 *    same number of steps, after the same number of warm-up steps, each run
 *    in its own child process, rounds alternating (disk, memory, resident,
 *    then the reverse) so a drifting machine load weighs on all alike:
 *    (a) disk: fromHdf5 (sliceRows OOC_SLICE) -> block shuffle -> batch(256)
 *        -> prefetch(k), streamed through model.fit(dataset, { stepsPerEpoch,
 *        prefetch }). OOC_SOURCE=batches reads each batch with one slice in
 *        the source instead (no per-row tensors, no stacking);
 *    (b) memory, the issue's baseline: the first OOC_MEM_ROWS rows of the
 *        same file as whole-data tensors through model.fit(x, y) (shuffle
 *        true: a gather per batch), as many epochs as the steps need;
 *    (c) resident, a reference floor: the same rows as ready-made batch
 *        tensors, cloned per step through the same Dataset path.
 * 3. Prints the throughputs, `out-of-core throughput ratio: R` (disk over
 *    memory samples/s), the disk/resident ratio and `out-of-core peak RSS MB: M`.
 *
 * Shuffling on disk is at the block level: the order of contiguous,
 * chunk-aligned blocks of OOC_BLOCK rows is a fresh permutation every epoch;
 * rows inside a block keep their order (so batches are fixed groups of rows
 * whose order changes). Every read is one contiguous hyperslab of whole
 * chunks, never a random row.
 *
 * The in-memory baseline takes its batches with Slice / Gather, which
 * rxkeras's wasm kernels copy straight from the heap (src/ops/tfjs/kernels:
 * slice.ts, gather-rows.ts); tfjs's stock kernels copied the whole input or
 * every element and made this baseline several times slower. Disk / resident
 * is the cost of streaming itself: on 2 cores both are busy with the step,
 * so the reads (h5wasm, on the main thread) are not hidden by prefetching.
 *
 * Peak RSS, honestly: the disk run is a fresh process, so its figure is not
 * inflated by the file write (h5wasm's heap grows to a block) nor by the
 * in-memory runs (their data live in the tfjs heap, which never shrinks). M
 * is the largest, over the disk runs, of the kernel's maxRSS for the child
 * (process.resourceUsage(): the lifetime peak of a process that only loaded
 * the backend, built the model and trained from disk) and the peak of
 * process.memoryUsage().rss sampled every 50 ms during the run. The children
 * preload h5wasm (`--import`) before tsx's loader: loaded through tsx, the
 * 4.2 MB single-file h5wasm module costs ~565 MB of extra RSS that stays
 * (80 MB plain node vs 675 MB under tsx, measured), an artefact of the
 * TypeScript runner that plain node (compiled code) does not have.
 *
 * What R measures: reads and tensor building run on the same JavaScript
 * thread as the training step (h5wasm and tfjs-wasm are synchronous), so
 * prefetching hides latency but not CPU time. After the write (or a previous
 * run) the file is normally in the OS page cache (24 GiB RAM here): R is the
 * cost of the streaming path (HDF5 reads, tensor creation, batching), not of
 * a cold disk.
 *
 * Environment: OOC_ROWS (rows in the file, default 700416: 2.2 GB),
 * OOC_STEPS (timed steps, default 500), OOC_WARMUP (default 30),
 * OOC_BATCH (256), OOC_ROUNDS (default 2), OOC_PREFETCH (fit's prefetch,
 * default 2), OOC_PIPE_PREFETCH (the pipeline's prefetch(k), default 2),
 * OOC_SLICE (fromHdf5 sliceRows, default 1024), OOC_BLOCK (shuffle block
 * rows, default 1024), OOC_CHUNK (chunk rows, default 128), OOC_SOURCE
 * (rows | batches), OOC_MEM_ROWS (rows of the in-memory sets, default
 * 131072), OOC_MEM_SHUFFLE (1), OOC_RESIDENT (1: run the reference),
 * OOC_FILE, KEEP_FILE=1.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { tap } from 'rxjs';
import * as tf from '@tensorflow/tfjs-core';
import h5wasm from 'h5wasm/node';
import * as rx from '../src/index.js';
import { batch, fromHdf5, indexedDataset, prefetch, type Dataset, type Example, type Indexed } from '../streams/index.js';

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
const STEPS = env('OOC_STEPS', 500);
const WARMUP = env('OOC_WARMUP', 30);
const BATCH = env('OOC_BATCH', 256);
const FIT_PREFETCH = env('OOC_PREFETCH', 2);
const PIPE_PREFETCH = env('OOC_PIPE_PREFETCH', 2);
const SLICE = env('OOC_SLICE', 1024);
const BLOCK = env('OOC_BLOCK', 1024);
const CHUNK = env('OOC_CHUNK', 128);
const MEM_ROWS = env('OOC_MEM_ROWS', 131_072);
const SOURCE = process.env.OOC_SOURCE === 'batches' ? 'batches' : 'rows';
const ROUNDS = Math.max(1, env('OOC_ROUNDS', 2));
const RESIDENT = env('OOC_RESIDENT', 1) === 1;
const MEM_SHUFFLE = env('OOC_MEM_SHUFFLE', 1) === 1;
const WRITE_BLOCK = 8192;
const FILE = process.env.OOC_FILE || join(tmpdir(), `rxkeras-ooc-${ROWS}x${COLS}-c${CHUNK}.h5`);
const MARKER = JSON.stringify({ rows: ROWS, cols: COLS, classes: CLASSES, seed: SEED, chunk: CHUNK, version: 1 });
/** Raw data bytes; the file is this plus HDF5's metadata (chunk index, headers). */
const DATA_BYTES = ROWS * (COLS + CLASSES) * 4;

type Mode = 'disk' | 'memory' | 'resident';

interface RunResult {
  mode: Mode;
  samplesPerSecond: number;
  seconds: number;
  steps: number;
  loss: number;
  sampledPeakRssMB: number;
  maxRssMB: number;
  rowsRead?: number;
  readSeconds?: number;
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

/** Timestamps the end of warm-up step WARMUP and of the last step; samples/s over the steps between. */
function stepClock() {
  let seen = 0;
  let t0 = 0;
  let t1 = 0;
  let lastLoss = NaN;
  const callback: rx.Callback = tap((e: rx.FitEvent) => {
    if (e.type !== 'batchEnd') return;
    seen++;
    if (seen === WARMUP) t0 = performance.now();
    if (seen === WARMUP + STEPS) {
      t1 = performance.now();
      lastLoss = e.logs.loss ?? NaN;
    }
  });
  return {
    callback,
    result: () => {
      if (seen < WARMUP + STEPS) throw new Error(`only ${seen} steps ran, expected ${WARMUP + STEPS}`);
      const seconds = (t1 - t0) / 1000;
      return { seconds, samplesPerSecond: (STEPS * BATCH) / seconds, loss: lastLoss };
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

/**
 * OOC_SOURCE=batches: batching in the source. Element j of epoch e is the
 * whole batch of rows [p * BATCH, (p + 1) * BATCH) with p = perm_e[j]: one
 * hyperslab read and one tensor per data set and batch, no per-row tensors
 * and no stacking. The same block shuffle as the default path with blocks of
 * one batch.
 */
function batchesFromHdf5(file: string, rows: number, seed: number, onRead: (n: number) => void): Dataset<Example> {
  const shuffledBlocks = Math.floor(rows / BATCH);
  let cached: { epoch: number; perm: Int32Array } | undefined;
  const permFor = (epoch: number): Int32Array => {
    if (cached?.epoch === epoch) return cached.perm;
    cached = { epoch, perm: permutationOf(shuffledBlocks, seed + 7919 * epoch) };
    return cached.perm;
  };
  return indexedDataset<Example>(
    {
      length: shuffledBlocks,
      read(indices, pass) {
        const perm = permFor(pass.epoch);
        const f = new h5wasm.File(file, 'r');
        try {
          const dx = f.get('x') as InstanceType<typeof h5wasm.Dataset>;
          const dy = f.get('y') as InstanceType<typeof h5wasm.Dataset>;
          return Array.from(indices, (j) => {
            const a = perm[j] * BATCH;
            onRead(BATCH);
            return {
              x: tf.tensor2d(dx.slice([[a, a + BATCH]]) as Float32Array, [BATCH, COLS]),
              y: tf.tensor2d(dy.slice([[a, a + BATCH]]) as Float32Array, [BATCH, CLASSES]),
            };
          });
        } finally {
          f.close();
        }
      },
    },
    { shuffled: true },
    1,
  );
}

async function runDisk(): Promise<RunResult> {
  const rss = rssSampler();
  let rowsRead = 0;
  let dataset: Dataset<Example>;
  const need = (WARMUP + STEPS) * BATCH;
  if (SOURCE === 'batches') {
    if (need > Math.floor(ROWS / BATCH) * BATCH) throw new Error(`${WARMUP + STEPS} steps of ${BATCH} need ${need} rows; the file has ${ROWS}`);
    dataset = batchesFromHdf5(FILE, ROWS, SEED, (n) => (rowsRead += n)).pipe(prefetch<Example>(PIPE_PREFETCH));
  } else {
    const source = await fromHdf5(FILE, { x: 'x', y: 'y', sliceRows: SLICE, onRead: (r) => (rowsRead += r.end - r.start) });
    const base = source.info.indexed;
    if (!base) throw new Error('fromHdf5 is expected to be indexable');
    if (need > Math.floor(base.length / BLOCK) * BLOCK) throw new Error(`${WARMUP + STEPS} steps of ${BATCH} need ${need} rows; the file has ${base.length}`);
    dataset = indexedDataset(blockShuffled(base, SEED), { shuffled: true }, SLICE).pipe(batch<Example>(BATCH), prefetch<Example>(PIPE_PREFETCH));
  }
  const m = model();
  const clock = stepClock();
  await m.fit(dataset, { epochs: 1, stepsPerEpoch: WARMUP + STEPS, prefetch: FIT_PREFETCH, verbose: 0, callbacks: [clock.callback] });
  const r = clock.result();
  rss.stop();
  m.dispose();
  return { mode: 'disk', ...r, steps: STEPS, sampledPeakRssMB: rss.peakMB(), maxRssMB: process.resourceUsage().maxRSS / 1024, rowsRead };
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

const mode = process.argv[2];
if (mode === 'disk' || mode === 'memory' || mode === 'resident') {
  process.env.RXKERAS_QUIET ??= '1';
  await rx.initBackend();
  await h5wasm.ready;
  const result = mode === 'disk' ? await runDisk() : mode === 'memory' ? await runMemory() : await runResident();
  process.stdout.write(`OOC_RESULT ${JSON.stringify(result)}\n`);
} else {
  const backend = await rx.initBackend();
  const load = () => loadavg().map((v) => v.toFixed(2)).join(' ');
  const how = SOURCE === 'batches' ? `batches read whole in the source (one slice per batch), shuffle blocks ${BATCH} rows` : `fromHdf5 sliceRows ${SLICE} -> batch, shuffle blocks ${BLOCK} rows`;
  console.log(`backend: ${backend}; batch ${BATCH}, ${WARMUP} warm-up + ${STEPS} timed steps; disk source: ${how}; chunk ${CHUNK} rows; prefetch ${PIPE_PREFETCH} (pipeline) + ${FIT_PREFETCH} (fit)`);
  console.log(`load average before: ${load()}`);
  const written = await ensureFile();
  const size = statSync(FILE).size;
  console.log(`file: ${FILE}, ${ROWS} rows, ${(size / 1e9).toFixed(2)} GB (${(size / 2 ** 30).toFixed(2)} GiB), ${written.reused ? 'reused' : `written in ${written.seconds.toFixed(1)} s`}`);
  try {
    // Disk first, each run in a fresh process: neither run's memory shows in the other's RSS.
    // Rounds go disk, memory, memory, disk, ... so a load that drifts during the bench weighs on both alike.
    const runs: Record<Mode, RunResult[]> = { disk: [], memory: [], resident: [] };
    const modes: Mode[] = RESIDENT ? ['disk', 'memory', 'resident'] : ['disk', 'memory'];
    for (let round = 0; round < ROUNDS; round++) {
      for (const m of round % 2 === 0 ? modes : [...modes].reverse()) {
        const r = await child(m);
        runs[m].push(r);
        console.log(`  round ${round + 1} ${m}: ${r.samplesPerSecond.toFixed(0)} samples/s (${r.seconds.toFixed(1)} s, epoch-mean loss ${r.loss.toFixed(4)}, maxRSS ${r.maxRssMB.toFixed(0)} MB, sampled peak RSS ${r.sampledPeakRssMB.toFixed(0)} MB${r.rowsRead === undefined ? '' : `, ${r.rowsRead} rows read`}); load ${load()}`);
      }
    }
    const mean = (rs: RunResult[]) => rs.reduce((a, r) => a + r.samplesPerSecond, 0) / rs.length;
    const disk = mean(runs.disk);
    const memory = mean(runs.memory);
    const peak = Math.max(...runs.disk.map((r) => Math.max(r.maxRssMB, r.sampledPeakRssMB)));
    console.log(`disk (HDF5 stream through fit) samples/s: ${disk.toFixed(0)}`);
    console.log(`memory (model.fit(x, y), ${memRowsUsed()} rows, shuffle ${MEM_SHUFFLE}) samples/s: ${memory.toFixed(0)}`);
    if (RESIDENT) {
      const resident = mean(runs.resident);
      console.log(`reference: resident batch tensors samples/s: ${resident.toFixed(0)} (disk / resident: ${(disk / resident).toFixed(2)})`);
    }
    console.log(`out-of-core file size MB: ${(size / 2 ** 20).toFixed(0)}`);
    console.log(`out-of-core throughput ratio: ${(disk / memory).toFixed(2)}`);
    console.log(`out-of-core peak RSS MB: ${peak.toFixed(0)}`);
    console.log(`load average after: ${load()}`);
  } finally {
    if (process.env.KEEP_FILE !== '1') unlinkSync(FILE);
  }
}
