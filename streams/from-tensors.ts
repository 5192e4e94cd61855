import * as ops from '../src/ops/index.js';
import { DataCardinalityError, EmptyDatasetError, InvalidArgumentError } from '../src/core/errors.js';
import type { Dataset } from './dataset.js';
import { type Example, type TensorStructure } from './element.js';
import { tensors } from '../src/core/tree.js';
import { indexedDataset } from './internal/indexed.js';

export interface FromTensorsOptions {
  /** Rows read per block when a pass runs ahead (default 256). */
  blockSize?: number;
}

/**
 * An indexable data set over in-memory tensors: element `i` holds row `i` of
 * every tensor (x may be an array or record of tensors for multi-input
 * models). The caller keeps ownership of `x`, `y` and `sampleWeight`; every
 * element holds fresh tensors (gathered rows) that its consumer owns.
 */
export function fromTensors(x: TensorStructure, y?: TensorStructure, sampleWeight?: TensorStructure, options?: FromTensorsOptions): Dataset<Example>;
export function fromTensors(
  x: TensorStructure,
  y?: TensorStructure,
  sampleWeight?: TensorStructure,
  options: FromTensorsOptions = {},
): Dataset<Example> {
  const lengths: Record<string, number> = {};
  const rowsOf = (name: string, s: TensorStructure | undefined): void => {
    if (s === undefined) return;
    const ts = tensors(s);
    if (ts.length === 0) throw new InvalidArgumentError(`fromTensors ${name}`, 'a tensor or arrays/records of tensors', s);
    ts.forEach((t, k) => {
      if (t.rank === 0) throw new InvalidArgumentError(`fromTensors ${name}`, 'tensors of rank >= 1 (rows first)', `a scalar`);
      lengths[ts.length > 1 ? `${name}[${k}]` : name] = t.shape[0];
    });
  };
  rowsOf('x', x);
  rowsOf('y', y);
  rowsOf('sampleWeight', sampleWeight);
  const counts = new Set(Object.values(lengths));
  if (counts.size > 1) throw new DataCardinalityError('fromTensors', lengths);
  const n = Object.values(lengths)[0];
  if (n === 0) throw new EmptyDatasetError('fromTensors', 'x has 0 rows');

  const gather = (s: TensorStructure | undefined, idx: ops.Tensor): TensorStructure | undefined => {
    if (s === undefined) return undefined;
    if (s instanceof ops.Tensor) return ops.gather(s, idx);
    if (Array.isArray(s)) return s.map((e) => gather(e, idx) as TensorStructure);
    const out: Record<string, TensorStructure> = {};
    for (const [k, v] of Object.entries(s)) if (v !== undefined) out[k] = gather(v, idx) as TensorStructure;
    return out;
  };
  const rows = (batch: TensorStructure | undefined, count: number): (TensorStructure | undefined)[] => {
    if (batch === undefined) return Array.from({ length: count }, () => undefined);
    if (batch instanceof ops.Tensor) {
      const parts = ops.unstack(batch);
      batch.dispose();
      return parts;
    }
    if (Array.isArray(batch)) {
      const cols = batch.map((b) => rows(b, count));
      return Array.from({ length: count }, (_, i) => cols.map((c) => c[i]) as TensorStructure);
    }
    const cols = Object.entries(batch as Record<string, TensorStructure>).map(([k, b]) => [k, rows(b, count)] as const);
    return Array.from({ length: count }, (_, i) => Object.fromEntries(cols.map(([k, c]) => [k, c[i]])) as TensorStructure);
  };

  return indexedDataset<Example>(
    {
      length: n,
      read(indices) {
        if (indices.length === 0) return [];
        const idx = ops.tensor1d(Array.from(indices), 'int32');
        try {
          const xs = rows(gather(x, idx), indices.length);
          const ys = rows(gather(y, idx), indices.length);
          const ws = rows(gather(sampleWeight, idx), indices.length);
          return xs.map((xi, i) => {
            const e: Example = { x: xi as TensorStructure };
            if (ys[i] !== undefined) e.y = ys[i];
            if (ws[i] !== undefined) e.sampleWeight = ws[i];
            return e;
          });
        } finally {
          idx.dispose();
        }
      },
    },
    {},
    options.blockSize ?? 256,
  );
}
