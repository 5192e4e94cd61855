import * as tf from '@tensorflow/tfjs-core';

interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * tfjs-backend-wasm's Slice reads the whole input out of the wasm heap (a
 * copy of every element) before taking the slice, so taking a batch of rows
 * from a large in-memory data set costs a copy of the data set. A slice that
 * is contiguous in memory (leading rows, the common case) is copied here
 * straight from the heap; any other slice goes to the stock kernel.
 */
export function withContiguousSlice(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    if (x.dtype === 'string' || !tf.slice_util.isSliceContinous(x.shape, b, s)) return stock.kernelFunc(args);
    const backend = args.backend as unknown as WasmBackend;
    const offset = tf.slice_util.computeFlatOffset(b, tf.util.computeStrides(x.shape));
    // The output first: allocating may grow the heap, which detaches earlier views.
    const out = backend.makeOutput(s, x.dtype);
    const source = backend.typedArrayFromHeap(x);
    backend.typedArrayFromHeap(out).set(source.subarray(offset, offset + tf.util.sizeFromShape(s)));
    return out;
  };
  return { ...stock, kernelFunc };
}
