import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as rx from '../../src/index.js';
import { BatchRing, ringValues, type RingShard, type RingTensor } from '../../src/parallel/batch-ring.js';
import { splitRows } from '../../src/training/split-rows.js';
import { batchTensors, rowsBatch } from '../../src/training/rows-batch.js';

await rx.initBackend();

/** The values a replica reads for one of its shard's tensors, from the memory the ring sent it for that slot. */
function read(memory: Map<number, SharedArrayBuffer>, shard: RingShard, r: RingTensor): number[] {
  if (shard.buffer) memory.set(shard.slot, shard.buffer);
  return [...ringValues(memory.get(shard.slot)!, r)];
}

function batchOf(rows: number, seed: number): rx.Batch {
  return {
    x: [rx.ops.randomUniform([rows, 3, 2], 0, 1, 'float32', seed), rx.ops.cast(rx.ops.randomUniform([rows, 5], 0, 9, 'float32', seed + 1), 'int32')],
    y: [rx.ops.randomUniform([rows, 4], 0, 1, 'float32', seed + 2)],
    sampleWeight: [rx.ops.cast(rx.ops.greater(rx.ops.randomUniform([rows], 0, 1, 'float32', seed + 3), 0.5), 'bool')],
  };
}

test("each replica reads exactly its rows of every tensor (Keras's split), for several batches through the reused slots", () => {
  const ring = new BatchRing(3);
  const memory = new Map<number, SharedArrayBuffer>();
  for (const [i, rows] of [10, 10, 7, 10, 12, 3].entries()) {
    const batch = batchOf(rows, 10 * i);
    const ranges = splitRows(rows, 4);
    const written = ring.write(batch, ranges)!;
    assert.ok(written, `batch ${i} found a free slot`);
    const tensors = [...batch.x, ...batch.y, batch.sampleWeight![0]!];
    for (const [rank, [start, end]] of ranges.entries()) {
      const shard = written.shards[rank];
      const placed = [...shard.x, ...shard.y, shard.sampleWeight![0]!];
      for (const [k, t] of tensors.entries()) {
        const rowSize = t.size / t.shape[0];
        assert.deepEqual(placed[k].shape, [end - start, ...t.shape.slice(1)]);
        assert.equal(placed[k].dtype, t.dtype);
        const expected = Array.from(t.dataSync() as ArrayLike<number>).slice(start * rowSize, end * rowSize);
        assert.deepEqual(read(memory, shard, placed[k]), expected, `batch ${i}, replica ${rank}, tensor ${k}`);
      }
    }
    written.release();
    rx.ops.dispose(tensors);
  }
});

test('a slot is not written while a call may still read it; a larger batch gets new memory, sent with its shards', () => {
  const ring = new BatchRing(2);
  const a = batchOf(4, 1);
  const b = batchOf(4, 2);
  const first = ring.write(a, splitRows(4, 2))!;
  const second = ring.write(b, splitRows(4, 2))!;
  assert.notEqual(first.shards[0].slot, second.shards[0].slot);
  assert.ok(first.shards[0].buffer && second.shards[0].buffer, 'a new slot sends its memory');
  assert.equal(ring.write(a, splitRows(4, 2)), undefined, 'both slots busy: the caller sends arrays');
  first.release();
  const third = ring.write(b, splitRows(4, 2))!;
  assert.equal(third.shards[0].slot, first.shards[0].slot);
  assert.equal(third.shards[0].buffer, undefined, 'the replicas hold that slot memory already');
  third.release();
  const big = batchOf(40, 3);
  const grown = ring.write(big, splitRows(40, 2))!;
  assert.ok(grown.shards[0].buffer && grown.shards[0].buffer.byteLength >= 40 * 6 * 4, 'a batch larger than the slot gets new memory');
  rx.ops.dispose([...a.x, ...a.y, ...b.x, ...b.y, ...big.x, ...big.y, a.sampleWeight![0]!, b.sampleWeight![0]!, big.sampleWeight![0]!]);
});

test('a batch of rows of an in-memory source goes into the slot straight from the source: the replicas read the gathered rows, and the batch gathers none into tensors (float32 sources on the compiled backend)', () => {
  const whole = batchOf(20, 7);
  const indices = Int32Array.from([13, 2, 19, 7, 0, 11, 5]);
  const ranges = splitRows(indices.length, 3);
  // Every dtype: the int32 and bool tensors are gathered into tensors first and read from there.
  const mixed = rowsBatch({ x: whole.x, y: whole.y, sampleWeight: whole.sampleWeight![0]! }, indices);
  const floats = rowsBatch({ x: [whole.x[0]], y: whole.y }, indices);
  const ring = new BatchRing(3);
  const memory = new Map<number, SharedArrayBuffer>();
  const cases = [
    ['float32', floats, [whole.x[0], whole.y[0]]],
    ['mixed', mixed, [...whole.x, ...whole.y, whole.sampleWeight![0]!]],
  ] as const;
  for (const [name, batch, sources] of cases) {
    const written = ring.write(batch, ranges)!;
    assert.ok(written, `${name}: a free slot`);
    if (name === 'float32' && rx.ops.chosenBackend() === 'compiled') assert.deepEqual(batchTensors(batch), [], 'nothing gathered into tensors');
    for (const [rank, [start, end]] of ranges.entries()) {
      const shard = written.shards[rank];
      const placed = [...shard.x, ...shard.y, ...(shard.sampleWeight ?? [])].map((r) => r!);
      assert.equal(placed.length, sources.length, `${name}: every tensor placed`);
      for (const [k, s] of sources.entries()) {
        const rowSize = s.size / s.shape[0];
        const values = Array.from(s.dataSync() as ArrayLike<number>);
        const rows = [...indices.subarray(start, end)].flatMap((r) => values.slice(r * rowSize, (r + 1) * rowSize));
        assert.deepEqual(placed[k].shape, [end - start, ...s.shape.slice(1)]);
        assert.deepEqual(read(memory, shard, placed[k]), rows, `${name}, replica ${rank}, tensor ${k}`);
      }
    }
    written.release();
    rx.ops.dispose(batchTensors(batch));
  }
  rx.ops.dispose([...whole.x, ...whole.y, whole.sampleWeight![0]!]);
});
