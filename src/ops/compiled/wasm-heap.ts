/**
 * The memory of the fused-update kernels (native/fused-update, built to
 * WebAssembly by `npm run build`): the weights and optimizer slots that the
 * fused update writes live here, so that the kernels read and write them in
 * place and ONNX Runtime reads them as graph inputs without a copy. Freed
 * regions are kept by size and taken again, so steady-state training
 * allocates nothing. Growing a WebAssembly memory detaches its old buffer:
 * the heap then gives every tracked value a new view of its region (and
 * never lends a view out: the backend's reads copy).
 */
import { readFileSync } from 'node:fs';
import { builtFile } from '../native-dir.js';
import { sizeOf, type TraceValue } from './trace.js';
import { fastestFusedKernels, type FusedKernels } from './fused-kernels.js';

const PAGE = 65536;

/** What this file uses of the WebAssembly API (the project's TypeScript libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const wasm = (globalThis as unknown as {
  WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => { exports: Record<string, unknown> } };
}).WebAssembly;

/** Bytes of a region of `length` floats: padded to whole 16-byte vectors. */
const regionBytes = (length: number) => Math.ceil(length / 4) * 16;

export class WasmHeap {
  private readonly memory: WasmMemory;
  private top: number;
  private readonly free = new Map<number, number[]>();
  private readonly tracked = new Set<TraceValue>();

  private constructor(readonly kernels: FusedKernels, memory: WasmMemory) {
    this.memory = memory;
    this.top = Math.ceil(kernels.heapBase() / 16) * 16;
  }

  /** The heap over the built kernels, or undefined (with the reason) when they are missing. */
  static load(): WasmHeap | string {
    const path = builtFile('fused-update/build/fused-update.wasm');
    if (!path) return 'native/fused-update/build/fused-update.wasm is not built (npm run build)';
    const instance = new wasm.Instance(new wasm.Module(readFileSync(path)), { env: { abort: () => { throw new Error('fused-update kernel aborted'); } } });
    const memory = instance.exports.memory as WasmMemory;
    return new WasmHeap(fastestFusedKernels(memory, instance.exports as unknown as FusedKernels), memory);
  }

  /** A region for `length` floats (its byte offset); grows the memory when none is free. Throws a RangeError when the memory cannot grow. */
  take(length: number): number {
    const bytes = regionBytes(length);
    const reused = this.free.get(bytes)?.pop();
    if (reused !== undefined) return reused;
    const offset = this.top;
    const end = offset + bytes;
    if (end > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / PAGE));
      // The old views are detached now (length 0): each value's length comes from its shape.
      for (const v of this.tracked) v.data = this.view(v.heapOffset!, sizeOf(v.shape));
    }
    this.top = end;
    return offset;
  }

  release(offset: number, length: number): void {
    const bytes = regionBytes(length);
    let list = this.free.get(bytes);
    if (!list) this.free.set(bytes, (list = []));
    list.push(offset);
  }

  view(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }

  /** Keeps `v.data` (a view of its region) valid across growth until `untrack`. */
  track(v: TraceValue): void {
    this.tracked.add(v);
  }

  untrack(v: TraceValue): void {
    this.tracked.delete(v);
  }

  /** Bytes in use or kept for reuse (for tests). */
  get size(): number {
    return this.top;
  }
}
