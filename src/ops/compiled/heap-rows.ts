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
import { sizeOf } from './trace.js';
import { takeHeap } from './heap-values.js';

/**
 * Rows `indices` of `source` as a new tensor over a heap region, or
 * undefined when compiled steps are off, the kernels are not built, the
 * tensor is not float32, or the heap cannot grow. The first call moves
 * `source`'s data to the compiled backend (once: later calls read it there).
 */
export function heapRows(source: tf.Tensor, indices: Int32Array): tf.Tensor | undefined {
  const data = compiledValues(source);
  if (!data) return undefined;
  const backend = compiledBackend();
  const row = sizeOf(source.shape.slice(1));
  const region = takeHeap(indices.length * row);
  if (!region) return undefined;
  const out = region.heap.view(region.offset, indices.length * row);
  copyRows(data, row, indices, out);
  return backend.adoptHeap(region.heap, region.offset, [indices.length, ...source.shape.slice(1)]);
}

/**
 * Rows `indices` of `source` copied into `out` (a batch's memory elsewhere,
 * e.g. worker replicas' shared batch slots), read in place on the compiled
 * backend; false, with nothing written, where heapRows would not gather them.
 */
export function gatherRowsInto(source: tf.Tensor, indices: Int32Array, out: Float32Array): boolean {
  const data = compiledValues(source);
  if (!data) return false;
  copyRows(data, sizeOf(source.shape.slice(1)), indices, out);
  return true;
}

/** `source`'s values where the compiled backend holds them (moved there on the first call), or undefined where heapRows does not gather. */
function compiledValues(source: tf.Tensor): Float32Array | undefined {
  if (!compiledStepsEnabled() || source.dtype !== 'float32' || source.rank === 0) return undefined;
  const backend = compiledBackend();
  if (typeof backend.heap() === 'string') return undefined;
  if (!backend.valueIfPresent(source.dataId)) tf.engine().moveData(backend, source.dataId);
  return backend.valueData(backend.traced(source)) as Float32Array;
}

function copyRows(data: Float32Array, row: number, indices: Int32Array, out: Float32Array): void {
  indices.forEach((r, i) => out.set(data.subarray(r * row, (r + 1) * row), i * row));
}
