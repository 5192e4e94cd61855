/**
 * Float32 values into and out of the compiled backend without a new array
 * each time. A data-parallel replica rebuilds its weights from a shared
 * buffer and reads its gradients back into one at every step: through
 * `tensor` and `dataSync` each is a fresh copy, external memory to V8, and
 * with two replicas their full collections cost as much as the steps'
 * graphs (measured in the replicas' CPU profiles).
 */
import * as tf from '@tensorflow/tfjs-core';
import { compiledBackend } from './backend.js';
import { inCompiledRegion } from './region.js';
import type { WasmHeap } from './wasm-heap.js';
import { sizeOf, type HostArray, type TraceValue } from './trace.js';
import { compiledStepsEnabled } from './step.js';

/**
 * A float32 tensor over a new region of the fused-update heap holding a copy
 * of `values` (compiled steps and fused updates read it in place; the region
 * is freed with the tensor), or undefined where compiled steps are off, the
 * kernels are not built or the heap cannot grow.
 */
export function heapTensor(values: Float32Array, shape: number[]): tf.Tensor | undefined {
  const region = takeHeap(values.length);
  if (!region) return undefined;
  region.heap.view(region.offset, values.length).set(values);
  return compiledBackend().adoptHeap(region.heap, region.offset, shape);
}

/**
 * As {@link heapTensor}, with elements [from, from + size) of float32 `t`
 * (read in place where the compiled backend holds them: one copy).
 */
export function heapPart(t: tf.Tensor, from: number, shape: number[]): tf.Tensor | undefined {
  const length = sizeOf(shape);
  const region = takeHeap(length);
  if (!region) return undefined;
  readInto(t, region.heap.view(region.offset, length), from);
  return compiledBackend().adoptHeap(region.heap, region.offset, shape);
}

/** A new region of `length` floats in the fused-update heap, or undefined where compiled steps are off, the kernels are not built or the heap cannot grow. */
export function takeHeap(length: number): { heap: WasmHeap; offset: number } | undefined {
  if (!compiledStepsEnabled()) return undefined;
  const heap = compiledBackend().heap();
  if (typeof heap === 'string') return undefined;
  try {
    return { heap, offset: heap.take(length) };
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/**
 * Copies `t`'s flat values from element `from` on into `out` (as many as
 * `out` holds, an array of `t`'s dtype): read in place where the compiled
 * backend holds them, else through `dataSync`.
 */
export function readInto(t: tf.Tensor, out: HostArray, from = 0): void {
  const backend = compiledStepsEnabled() ? compiledBackend() : undefined;
  const values = (backend?.valueIfPresent(t.dataId) ? backend.valueData(backend.traced(t)) : (wasmHeapView(t) ?? t.dataSync())) as HostArray;
  const part = from === 0 && values.length === out.length ? values : values.subarray(from, from + out.length);
  // A value computed into `out` itself (computeInto) is there already.
  if (part.buffer !== out.buffer || part.byteOffset !== out.byteOffset) out.set(part);
}

/**
 * Inside a compiled region, before it computes: the pending float32 values
 * of `tensors` are to be written by the graph straight into fused-heap
 * regions (as the fused update's gradients are), so that they are read in
 * place afterwards instead of arriving as fresh arrays every step.
 */
export function computeIntoHeap(tensors: tf.Tensor[]): void {
  if (inCompiledRegion() && typeof compiledBackend().heap() !== 'string') for (const v of pending(tensors)) v.toHeap = true;
}

/**
 * Inside a compiled region, before it computes: the pending float32 value
 * of each tensor is to be written by the graph straight into its array
 * (as many floats as the tensor has; lent by the caller until the tensor
 * is disposed), so that reading it there afterwards (readInto) copies
 * nothing. Others are left as they are.
 */
export function computeInto(pairs: [tf.Tensor, Float32Array][]): void {
  if (!inCompiledRegion()) return;
  for (const [t, out] of pairs) if (out.length === t.size) for (const v of pending([t])) v.into = out;
}

/** The pending float32 values of `tensors` on the compiled backend. */
function pending(tensors: tf.Tensor[]): TraceValue[] {
  const backend = compiledBackend();
  return tensors.flatMap((t) => {
    const v = backend.valueIfPresent(t.dataId);
    return v && !v.data && v.dtype === 'float32' ? [v] : [];
  });
}

interface WasmBackendView {
  dataIdMap: { has(dataId: object): boolean };
  typedArrayFromHeap(t: tf.TensorInfo): HostArray;
}

/**
 * A view of `t`'s values in the wasm backend's memory, where it holds them
 * (dataSync would copy them into a fresh array: megabytes of garbage a
 * step for a replica's gradients); valid until the next wasm op.
 */
function wasmHeapView(t: tf.Tensor): HostArray | undefined {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') return undefined;
  const wasm = tf.engine().registry.wasm as unknown as WasmBackendView | undefined;
  return wasm?.dataIdMap.has(t.dataId) ? wasm.typedArrayFromHeap(t) : undefined;
}
