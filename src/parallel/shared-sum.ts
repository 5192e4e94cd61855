/**
 * The shared-memory all-reduce's sum as WebAssembly SIMD
 * (native/shared-sum): a group's slots live in one shared WebAssembly
 * memory, and each member instantiates the kernel over it. Where the kernel
 * is not built the collective sums in JavaScript (same results).
 */
import { readFileSync } from 'node:fs';
import { builtFile } from '../ops/native-dir.js';

/** `out[i] = a[i] + b[i]` for `n` floats at byte offsets of the memory (`out` may be `a`). */
export type AddKernel = (out: number, a: number, b: number, n: number) => void;

/** What this file uses of the WebAssembly API (the project's TypeScript libraries do not declare it). */
interface Wasm {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => { buffer: SharedArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: { add: AddKernel } };
}
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

const PAGE = 65536;

/** A shared WebAssembly memory of at least `bytes` (fixed size); its `buffer` is a SharedArrayBuffer. */
export function sharedMemory(bytes: number): { buffer: SharedArrayBuffer } {
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  return new wasm.Memory({ initial: pages, maximum: pages, shared: true });
}

let compiled: object | null | undefined;

/** The add kernel over `memory` (from {@link sharedMemory}), or undefined where native/shared-sum is not built. */
export function addKernel(memory: object): AddKernel | undefined {
  if (compiled === undefined) {
    const path = builtFile('shared-sum/build/shared-sum.wasm');
    compiled = path ? new wasm.Module(readFileSync(path)) : null;
  }
  return compiled ? new wasm.Instance(compiled, { env: { memory, abort: () => { throw new Error('shared-sum kernel aborted'); } } }).exports.add : undefined;
}
