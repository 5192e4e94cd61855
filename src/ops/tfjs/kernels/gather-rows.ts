import * as tf from '@tensorflow/tfjs-core';

interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * tfjs-backend-wasm's GatherV2 copies element by element (~8 ms for 256 rows
 * of 784 floats, whatever the table size), and a shuffled batch is exactly
 * that gather. Taking whole rows (axis 0, no batch dims) is a row copy per
 * index straight from the heap here; anything else goes to the stock kernel.
 */
export function withRowGather(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    const rows = x.shape[0];
    if (tf.util.parseAxisParam(axis, x.shape)[0] !== 0 || batchDims !== 0 || x.dtype === 'string' || rows === undefined)
      return stock.kernelFunc(args);
    const backend = args.backend as unknown as WasmBackend;
    const rowSize = tf.util.sizeFromShape(x.shape.slice(1));
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Views after the output is made: allocating may grow the heap, which detaches earlier views.
    const ids = backend.typedArrayFromHeap(indices);
    const source = backend.typedArrayFromHeap(x);
    const target = backend.typedArrayFromHeap(out);
    for (let k = 0; k < ids.length; k++) {
      const row = ids[k];
      if (!(row >= 0 && row < rows)) throw new Error(`GatherV2: the index value ${row} is not in [0, ${rows - 1}]`);
      target.set(source.subarray(row * rowSize, (row + 1) * rowSize), k * rowSize);
    }
    return out;
  };
  return { ...stock, kernelFunc };
}
