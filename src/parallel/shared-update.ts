/**
 * The fused optimizer updates (native/fused-update) built over an imported
 * shared memory: instantiated over a data-parallel group's memory, they let
 * each replica update its range of the weights and optimizer slots there in
 * place (see Replica). Undefined where the build is missing.
 */
import { readFileSync } from 'node:fs';
import { builtFile } from '../ops/native-dir.js';
import type { FusedKernels } from '../ops/compiled/index.js';

const wasm = (globalThis as unknown as {
  WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => { exports: unknown } };
}).WebAssembly;

let compiled: object | null | undefined;

/** The kernels over `memory` (a shared WebAssembly memory), or undefined where native/fused-update's shared build is missing. */
export function updateKernels(memory: object): FusedKernels | undefined {
  if (compiled === undefined) {
    const path = builtFile('fused-update/build/fused-update-shared.wasm');
    compiled = path ? new wasm.Module(readFileSync(path)) : null;
  }
  if (!compiled) return undefined;
  const imports = { env: { memory, abort: () => { throw new Error('fused-update kernel aborted'); } } };
  return new wasm.Instance(compiled, imports).exports as FusedKernels;
}
