import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as rx from '../../src/index.js';
import { BatchRing, ringValues, type RingShard, type RingTensor } from '../../src/parallel/batch-ring.js';
import { splitRows } from '../../src/training/split-rows.js';
import { batchTensors, rowsBatch } from '../../src/training/rows-batch.js';

await rx.initBackend();

/** What a replica holds: the slots' memory and the shared sources, as the ring's shards sent them. */
interface Held {
  memory: Map<number, SharedArrayBuffer>;
  sources: Map<number, Float32Array>;
}

const held = (): Held => ({ memory: new Map(), sources: new Map() });

/**
 * The values a replica reads for one of its shard's tensors: from the memory
 * the ring sent it for that slot, or (a source's rows) gathered from the
 * shared source at the row indices in that memory, as replica-worker.ts does.
 */
function read(h: Held, shard: RingShard, r: RingTensor): number[] {
  if (shard.buffer) h.memory.set(shard.slot, shard.buffer);
  if (shard.sources) h.sources = new Map(shard.sources.map((s) => [s.id, s.values]));
  const buffer = h.memory.get(shard.slot)!;
  if (r.source === undefined) return [...ringValues(buffer, r)];
  const values = h.sources.get(r.source);
  assert.ok(values, `source ${r.source} was sent before a shard named it`);
  const row = r.shape.slice(1).reduce((a, b) => a * b, 1);
  return [...new Int32Array(buffer, r.byteOffset, r.shape[0])].flatMap((i) => [...values.subarray(i * row, (i + 1) * row)]);
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
  const memory = held();
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

test('a slot is not written while a call may still read it (a new one is added); a larger batch gets new memory, sent with its shards', () => {
  const ring = new BatchRing(2);
  const a = batchOf(4, 1);
  const b = batchOf(4, 2);
  const first = ring.write(a, splitRows(4, 2))!;
  const second = ring.write(b, splitRows(4, 2))!;
  assert.notEqual(first.shards[0].slot, second.shards[0].slot);
  assert.ok(first.shards[0].buffer && second.shards[0].buffer, 'a new slot sends its memory');
  const extra = ring.write(a, splitRows(4, 2))!;
  assert.ok(![first, second].some((w) => w.shards[0].slot === extra.shards[0].slot), 'both slots busy: a third one');
  assert.ok(extra.shards[0].buffer, 'the third slot sends its memory');
  extra.release();
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

test('of a batch of rows of an in-memory source, the replicas gather their rows from the source in shared memory (float32 sources on the compiled backend; the rest is written into the slot): they read exactly those rows, and the batch gathers none into tensors', () => {
  const whole = batchOf(20, 7);
  const indices = Int32Array.from([13, 2, 19, 7, 0, 11, 5]);
  const ranges = splitRows(indices.length, 3);
  // Every dtype: the int32 and bool tensors are gathered into tensors first and read from there.
  const mixed = rowsBatch({ x: whole.x, y: whole.y, sampleWeight: whole.sampleWeight![0]! }, indices);
  const floats = rowsBatch({ x: [whole.x[0]], y: whole.y }, indices);
  const ring = new BatchRing(3);
  const memory = held();
  const cases = [
    ['float32', floats, [whole.x[0], whole.y[0]]],
    ['mixed', mixed, [...whole.x, ...whole.y, whole.sampleWeight![0]!]],
  ] as const;
  for (const [name, batch, sources] of cases) {
    const written = ring.write(batch, ranges)!;
    assert.ok(written, `${name}: a free slot`);
    if (name === 'float32' && rx.ops.chosenBackend() === 'compiled') {
      assert.deepEqual(batchTensors(batch), [], 'nothing gathered into tensors');
      assert.ok([...written.shards[0].x, ...written.shards[0].y].every((r) => r.source !== undefined), 'the replicas gather the float32 rows');
    }
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

test('the replicas hold at most 6 shared sources, and every source a shard names was sent before or with it', () => {
  if (rx.ops.chosenBackend() !== 'compiled') return;
  const ring = new BatchRing(3);
  const h = held();
  const indices = Int32Array.from([3, 1, 4]);
  const sources = Array.from({ length: 8 }, (_, i) => rx.ops.randomUniform([5, 2], 0, 1, 'float32', 40 + i));
  // Pairs of sources as x and y, one pair after another, then the first pair again (sent anew once dropped).
  for (const [k, [a, b]] of [[0, 1], [2, 3], [4, 5], [6, 7], [0, 1]].entries()) {
    const written = ring.write(rowsBatch({ x: [sources[a]], y: [sources[b]] }, indices), splitRows(3, 2))!;
    for (const [rank, shard] of written.shards.entries())
      for (const [r, s] of [[shard.x[0], sources[a]], [shard.y[0], sources[b]]] as const) {
        const [start, end] = splitRows(3, 2)[rank];
        const values = Array.from(s.dataSync());
        assert.deepEqual(read(h, shard, r), [...indices.subarray(start, end)].flatMap((i) => values.slice(2 * i, 2 * i + 2)), `write ${k}, replica ${rank}`);
      }
    assert.ok(h.sources.size <= 6, `write ${k}: ${h.sources.size} sources held`);
    written.release();
  }
  rx.ops.dispose(sources);
});
