import * as ops from '../ops/index.js';
import { takeRows } from './data.js';
import type { Batch } from './types.js';

/** The whole-data tensors an in-memory source gathers its batches from. */
export interface RowSource {
  x: ops.Tensor[];
  y: ops.Tensor[];
  sampleWeight?: ops.Tensor;
}

/** Where a batch's rows come from: its source and the rows' indices in it. */
export interface BatchRows {
  source: RowSource;
  indices: Int32Array;
}

interface Gathered {
  x?: ops.Tensor[];
  y?: ops.Tensor[];
  sampleWeight?: ops.Tensor;
}

const rowsOf = new WeakMap<Batch, BatchRows & { gathered: Gathered }>();

/**
 * A batch of rows `indices` of `source` whose tensors are gathered when
 * first read, x, y and sample weights each on its own. A runner that
 * copies the rows elsewhere anyway (worker replicas' shared batch memory)
 * reads them from the source there (see `batchRowsOf`) instead of having
 * them gathered into tensors first. A spread copy (`{ ...batch }`) reads
 * them all and is a plain batch.
 */
export function rowsBatch(source: RowSource, indices: Int32Array): Batch {
  const gathered: Gathered = {};
  // Kept: the first read may come inside a tidy scope (a metric's), which would dispose them on leaving it.
  const take = (tensors: ops.Tensor[]) => takeRows(tensors, indices).map((t) => ops.keep(t));
  const batch = {} as Batch;
  Object.defineProperties(batch, {
    x: { enumerable: true, get: () => (gathered.x ??= take(source.x)) },
    y: { enumerable: true, get: () => (gathered.y ??= take(source.y)) },
    sampleWeight: {
      enumerable: true,
      get: () => {
        if (!source.sampleWeight) return null;
        gathered.sampleWeight ??= take([source.sampleWeight])[0];
        return source.y.map(() => gathered.sampleWeight!);
      },
    },
  });
  rowsOf.set(batch, { source, indices, gathered });
  return batch;
}

/** Where `batch`'s rows come from, for a batch of `rowsBatch`; undefined for any other. */
export function batchRowsOf(batch: Batch): BatchRows | undefined {
  return rowsOf.get(batch);
}

/** The number of rows of `batch`, without gathering a batch of `rowsBatch`. */
export function batchRowCount(batch: Batch): number {
  return rowsOf.get(batch)?.indices.length ?? batch.x[0].shape[0];
}

/** The tensors `batch` holds (of a batch of `rowsBatch`, those gathered so far), each once. */
export function batchTensors(batch: Batch): ops.Tensor[] {
  const rows = rowsOf.get(batch);
  const all = rows
    ? [...(rows.gathered.x ?? []), ...(rows.gathered.y ?? []), ...(rows.gathered.sampleWeight ? [rows.gathered.sampleWeight] : [])]
    : [...batch.x, ...batch.y, ...(batch.sampleWeight ?? []).filter((t): t is ops.Tensor => t !== null)];
  return [...new Set(all)];
}
