/**
 * A training batch gathered straight into the fused-update kernels' heap:
 * rows of a float32 tensor copied into a heap region that the step's graph
 * reads without a copy, and that is taken again for the next batch once
 * this one is disposed. Gathered on the eager backend instead, each batch
 * is made there and then copied into a new array when the compiled step
 * reads it: a new allocation every step, which V8 counts as external memory
 * (more frequent full collections) on top of the gather itself.
 */
import * as tf from '@tensorflow/tfjs-core';
import { compiledBackend } from './backend.js';
import { compiledStepsEnabled } from './step.js';
import { sizeOf, type TraceValue } from './trace.js';
import { takeHeap } from './heap-values.js';

/**
 * Rows `indices` of `source` as a new tensor over a heap region, or
 * undefined when compiled steps are off, the kernels are not built, the
 * tensor is not float32, or the heap cannot grow. The first call moves
 * `source`'s data to the compiled backend (once: later calls read it there).
 */
export function heapRows(source: tf.Tensor, indices: Int32Array): tf.Tensor | undefined {
  const v = compiledValue(source);
  return v && rowsIntoHeap(v.data as Float32Array, source.shape.slice(1), indices);
}

/**
 * Rows `indices` of `data` (rows of shape `rowShape`, e.g. a source in
 * shared memory, see {@link sharedRows}) as a new float32 tensor over a
 * heap region; undefined where {@link heapRows} would be.
 */
export function rowsIntoHeap(data: Float32Array, rowShape: number[], indices: Int32Array): tf.Tensor | undefined {
  const row = sizeOf(rowShape);
  const region = takeHeap(indices.length * row);
  if (!region) return undefined;
  copyRows(data, row, indices, region.heap.view(region.offset, indices.length * row));
  return compiledBackend().adoptHeap(region.heap, region.offset, [indices.length, ...rowShape]);
}

/**
 * `source`'s values in shared memory, where the compiled backend holds them
 * from then on (moved there, and into a SharedArrayBuffer, on the first
 * call; no second copy is kept): worker replicas gather their rows of it
 * themselves. Undefined where compiled steps are off, the tensor is not
 * float32, or its values are a heap region or lent (they stay where they are).
 */
export function sharedRows(source: tf.Tensor): Float32Array | undefined {
  const v = compiledValue(source);
  if (!v || v.heapOffset !== undefined || v.release || v.aliasOf) return undefined;
  const data = v.data as Float32Array;
  if (!(data.buffer instanceof SharedArrayBuffer)) {
    const shared = new Float32Array(new SharedArrayBuffer(data.byteLength));
    shared.set(data);
    v.data = shared;
  }
  return v.data as Float32Array;
}

/** `source`'s value in the compiled backend (moved there on the first call), its data computed; undefined where heapRows does not gather. */
function compiledValue(source: tf.Tensor): TraceValue | undefined {
  if (!compiledStepsEnabled() || source.dtype !== 'float32' || source.rank === 0) return undefined;
  const backend = compiledBackend();
  if (typeof backend.heap() === 'string') return undefined;
  if (!backend.valueIfPresent(source.dataId)) tf.engine().moveData(backend, source.dataId);
  const v = backend.traced(source);
  backend.valueData(v);
  return v;
}

/** Rows `indices` of `data` (rows of `row` values) copied one after another into `out`. */
export function copyRows(data: Float32Array, row: number, indices: Int32Array, out: Float32Array): void {
  indices.forEach((r, i) => out.set(data.subarray(r * row, (r + 1) * row), i * row));
}
