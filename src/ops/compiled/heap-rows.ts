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
  if (!compiledStepsEnabled() || source.dtype !== 'float32' || source.rank === 0) return undefined;
  const backend = compiledBackend();
  const heap = backend.heap();
  if (typeof heap === 'string') return undefined;
  if (!backend.valueIfPresent(source.dataId)) tf.engine().moveData(backend, source.dataId);
  const data = backend.valueData(backend.traced(source)) as Float32Array;
  const row = sizeOf(source.shape.slice(1));
  const region = takeHeap(indices.length * row);
  if (!region) return undefined;
  const out = heap.view(region.offset, indices.length * row);
  indices.forEach((r, i) => out.set(data.subarray(r * row, (r + 1) * row), i * row));
  return backend.adoptHeap(heap, region.offset, [indices.length, ...source.shape.slice(1)]);
}
