/**
 * Loads the TensorFlow.js wasm backend, multi-threaded where it can be.
 *
 * tfjs turns wasm multithreading off under Node (its feature test answers
 * false when `IS_NODE`), and when threads are on it hands Emscripten blob-URL
 * workers that Node's `worker_threads` cannot start. This module builds the
 * threaded-SIMD Emscripten module itself, through Emscripten's documented
 * `Module` hooks only (no global is patched here):
 *
 * - `locateFile` points the pthread worker script at an on-disk copy of the
 *   worker source that tfjs ships (written once to the OS temp folder);
 * - `mainScriptUrlOrBlob` is the on-disk glue file, which the workers import;
 * - `instantiateWasm` instantiates the binary with the imports Emscripten
 *   passes, except `emscripten_num_logical_cores`, which answers twice the
 *   wanted thread count: the C++ side caps its XNNPACK thread pool at half of
 *   that number (it assumes hyper-threading), which would give one thread on
 *   a two-core machine.
 *
 * The module is handed to tfjs's own `BackendWasm` class under the name
 * `wasm`, so every registered wasm kernel runs on it unchanged. After the
 * backend has started, the pool's workers are unref'd, so an idle pool never
 * keeps the process alive. If any step fails, the stock single-threaded SIMD
 * backend is restored and the reason recorded in {@link wasmInfo}.
 *
 * The Emscripten glue itself (stock tfjs behaviour, threaded or not) sets
 * `globalThis.Worker` to `worker_threads.Worker` and adds process-wide
 * `uncaughtException` / `unhandledRejection` listeners that rethrow; they
 * are removed once the backend has started (see glue-handlers.ts), so that
 * a program's own errors reach Node's default report.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { withoutGlueHandlers } from './glue-handlers.js';

/** Environment variable that sets the number of wasm threads (1 = single-threaded binary). */
export const WASM_THREADS_ENV = 'RXKERAS_WASM_THREADS';

/** The Emscripten build preallocates this many pthread workers; more would be started lazily and could deadlock. */
const MAX_THREADS = 8;
const WASM_PRIORITY = 2;
const READY_TIMEOUT_MS = 30_000;

export interface WasmInfo {
  /** Threads XNNPACK runs on (the calling thread included). */
  readonly threads: number;
  readonly binary: 'threaded-simd' | 'simd';
  /** Why the threaded binary was not used, when it was wanted but failed. */
  readonly fallbackReason?: string;
}

let info: WasmInfo | undefined;
let threadPool: EmscriptenModule['PThread'];

/** The threaded backend's pool: workers a thread runs on, and idle ones (for tests); undefined without threads. */
export function wasmWorkers(): { running: number; idle: number } | undefined {
  return threadPool && { running: threadPool.runningWorkers?.length ?? 0, idle: threadPool.unusedWorkers?.length ?? 0 };
}

/** What {@link initWasmBackend} set up; undefined before it ran. */
export function wasmInfo(): WasmInfo | undefined {
  return info;
}

/**
 * Makes `wasm` the active tfjs backend. `threads` defaults to
 * `RXKERAS_WASM_THREADS`, else `os.availableParallelism()` (capped at 8).
 * Resolves to undefined only when even the single-threaded backend fails to start.
 */
export function initWasmBackend(options: { threads?: number } = {}): Promise<WasmInfo | undefined> {
  return withoutGlueHandlers(() => startWasmBackend(options));
}

async function startWasmBackend(options: { threads?: number }): Promise<WasmInfo | undefined> {
  const wanted = Math.min(MAX_THREADS, Math.max(1, Math.floor(options.threads ?? threadsFromEnv() ?? os.availableParallelism())));
  let fallbackReason: string | undefined;
  if (wanted > 1) {
    const stock = tf.findBackendFactory('wasm');
    try {
      const module = await withTimeout(loadThreadedModule(wanted), READY_TIMEOUT_MS, 'threaded wasm module did not load');
      tf.removeBackend('wasm');
      wasmBackend.setThreadsCount(wanted);
      tf.registerBackend('wasm', () => new wasmBackend.BackendWasm(module as never), WASM_PRIORITY);
      if (!(await quietly(() => tf.setBackend('wasm')))) throw new Error('BackendWasm did not start on the threaded module');
      unrefWorkers(module);
      endIdleWorkers(module);
      threadPool = module.PThread;
      info = { threads: wasmBackend.getThreadsCount(), binary: 'threaded-simd' };
      return info;
    } catch (e) {
      fallbackReason = e instanceof Error ? e.message : String(e);
      if (stock) {
        tf.removeBackend('wasm');
        tf.registerBackend('wasm', stock, WASM_PRIORITY);
      }
      wasmBackend.setThreadsCount(1);
    }
  }
  if (!(await tf.setBackend('wasm'))) return undefined;
  info = fallbackReason === undefined ? { threads: 1, binary: 'simd' } : { threads: 1, binary: 'simd', fallbackReason };
  return info;
}

function threadsFromEnv(): number | undefined {
  const raw = process.env[WASM_THREADS_ENV];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** The subset of the Emscripten module that tfjs's BackendWasm and this file use. */
interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: unknown[]) => unknown;
  tfjs?: Record<string, (...a: unknown[]) => unknown>;
  PThread?: { runningWorkers?: PoolWorker[]; unusedWorkers?: PoolWorker[] };
}

/** The one WebAssembly call used here (the project's TS lib has no DOM / WebAssembly types). */
const webAssembly = (globalThis as unknown as {
  WebAssembly: { instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: unknown; module: unknown }> };
}).WebAssembly;

type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

async function loadThreadedModule(threads: number): Promise<EmscriptenModule> {
  if (typeof SharedArrayBuffer !== 'function') throw new Error('SharedArrayBuffer is not available');
  const require = createRequire(import.meta.url);
  const gluePath = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const wasmPath = path.join(path.dirname(gluePath), 'tfjs-backend-wasm-threaded-simd.wasm');
  const workerSource = (require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string })
    .wasmWorkerContents;
  const workerPath = writeWorkerScript(workerSource);
  const binary = await fs.promises.readFile(wasmPath);
  const factory = require(gluePath) as Factory;
  let failInstantiate: (e: unknown) => void = () => {};
  const instantiateFailed = new Promise<never>((_, reject) => {
    failInstantiate = reject;
  });
  const ready = factory({
    mainScriptUrlOrBlob: gluePath,
    locateFile: (file: string, prefix: string) => (file.endsWith('.worker.js') ? workerPath : prefix + file),
    instantiateWasm: (imports: { env: object }, receive: (instance: unknown, module: unknown) => void) => {
      const env = { ...imports.env, emscripten_num_logical_cores: () => 2 * threads };
      webAssembly.instantiate(binary, { ...imports, env }).then(
        ({ instance, module: compiled }) => receive(instance, compiled),
        failInstantiate,
      );
      return {};
    },
  });
  const module = await Promise.race([ready, instantiateFailed]);
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/**
 * tfjs ships the pthread worker as a string (for blob URLs); Node needs a
 * file. The copy is content-addressed, written atomically, and reused.
 * tfjs escapes newlines before making its blob; so does this.
 */
function writeWorkerScript(source: string): string {
  const text = source.replace(/\n/g, '\\n');
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `rxkeras-tfjs-wasm-${wasmBackend.version_wasm}-${hash}.worker.cjs`);
  try {
    if (fs.readFileSync(file, 'utf8') === text) return file;
  } catch {
    // not written yet
  }
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  return file;
}

interface PoolWorker {
  unref?(): void;
  terminate?(): unknown;
}

/** Emscripten refs a worker while its pthread runs; XNNPACK's pool threads run forever. */
function unrefWorkers(module: EmscriptenModule): void {
  const pool = module.PThread;
  if (!pool) throw new Error('Emscripten module exposes no PThread pool; its workers would keep the process alive');
  for (const w of [...(pool.runningWorkers ?? []), ...(pool.unusedWorkers ?? [])]) w.unref?.();
}

/** `tf.setBackend` reports a failed init with console.warn and false; keep the false. */
async function quietly(f: () => Promise<boolean>): Promise<boolean> {
  try {
    return await f();
  } catch {
    return false;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * Ends the pool workers no thread runs on. Emscripten starts 8 whatever the
 * thread count (XNNPACK's pool takes threads - 1 of them), and each idle one
 * is a V8 isolate with its own heap and garbage collections: with 2 threads,
 * 7 idle workers held ~90 MB of the process's memory. Emscripten starts a
 * new worker when a thread needs one.
 */
function endIdleWorkers(module: EmscriptenModule): void {
  for (const w of module.PThread?.unusedWorkers?.splice(0) ?? []) w.terminate?.();
}
