import * as ops from '../ops/index.js';

/** A tensor as plain data, to cross to another thread or process (structured clone). */
export interface WireTensor {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: Float32Array | Int32Array | Uint8Array;
}

/** `t`'s values in an array of their own (the cpu backend's dataSync lends its storage), safe to transfer. */
export function toWire(t: ops.Tensor): WireTensor {
  if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') throw new TypeError(`cannot send a ${t.dtype} tensor to a device`);
  const data = (t.dataSync() as Float32Array | Int32Array | Uint8Array).slice();
  return { shape: [...t.shape], dtype: t.dtype, data };
}

/** A new tensor on this thread's backend; the caller owns it. */
export function fromWire(w: WireTensor): ops.Tensor {
  return ops.tensor(w.data, w.shape, w.dtype);
}

/** The buffers of wire tensors made by {@link toWire}, to transfer instead of copy. */
export function buffersOf(list: readonly WireTensor[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const w of list) if (w.data.buffer instanceof ArrayBuffer && w.data.byteOffset === 0 && w.data.byteLength === w.data.buffer.byteLength) out.add(w.data.buffer);
  return [...out];
}
