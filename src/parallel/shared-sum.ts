/**
 * WebAssembly kernels over a group's shared memory: the shared-memory
 * all-reduce's sum (native/shared-sum) and, for replicas' updates in place,
 * the fused optimizer updates' shared build (native/fused-update). Each
 * member instantiates them over the memory. Where the sum is not built the
 * collective sums in JavaScript (same results).
 */
import { readFileSync } from 'node:fs';
import { builtFile } from '../ops/native-dir.js';

/** `out[i] = a[i] + b[i]` for `n` floats at byte offsets of the memory (`out` may be `a`). */
export type AddKernel = (out: number, a: number, b: number, n: number) => void;

/** What this file uses of the WebAssembly API (the project's TypeScript libraries do not declare it). */
interface Wasm {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => { buffer: SharedArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

const PAGE = 65536;

/** A shared WebAssembly memory of at least `bytes` (fixed size); its `buffer` is a SharedArrayBuffer. */
export function sharedMemory(bytes: number): { buffer: SharedArrayBuffer } {
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  return new wasm.Memory({ initial: pages, maximum: pages, shared: true });
}

/** Compiled modules by built file (null: not built). */
const compiled = new Map<string, object | null>();

/**
 * The exports of native/`file` (a build over an imported shared memory)
 * instantiated over `memory` (from {@link sharedMemory}), or undefined where
 * it is not built.
 */
export function kernelsOver<T>(file: string, memory: object): T | undefined {
  if (!compiled.has(file)) {
    const path = builtFile(file);
    compiled.set(file, path ? new wasm.Module(readFileSync(path)) : null);
  }
  const module = compiled.get(file);
  return module ? (new wasm.Instance(module, { env: { memory, abort: () => { throw new Error(`${file} aborted`); } } }).exports as T) : undefined;
}

/** The add kernel over `memory`, or undefined where native/shared-sum is not built. */
export function addKernel(memory: object): AddKernel | undefined {
  return kernelsOver<{ add: AddKernel }>('shared-sum/build/shared-sum.wasm', memory)?.add;
}
