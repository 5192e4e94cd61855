import * as ops from '../ops/index.js';

/** A tensor as plain data, to cross to another thread or process (structured clone). */
export interface WireTensor {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: Float32Array | Int32Array | Uint8Array;
}

function wireDtype(t: ops.Tensor): WireTensor['dtype'] {
  if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool') throw new TypeError(`cannot send a ${t.dtype} tensor to a device`);
  return t.dtype;
}

/** `t`'s values in an array of their own (the cpu backend's dataSync lends its storage), safe to transfer. */
export function toWire(t: ops.Tensor): WireTensor {
  const dtype = wireDtype(t);
  return { shape: [...t.shape], dtype, data: (t.dataSync() as WireTensor['data']).slice() };
}

/** The rows [s, e) of `t` for each range, each in an array of its own, safe to transfer. */
export function wireRows(t: ops.Tensor, ranges: [number, number][]): WireTensor[] {
  const dtype = wireDtype(t);
  const values = t.dataSync() as WireTensor['data'];
  const rowSize = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return ranges.map(([s, e]) => ({ shape: [e - s, ...t.shape.slice(1)], dtype, data: values.slice(s * rowSize, e * rowSize) }));
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
