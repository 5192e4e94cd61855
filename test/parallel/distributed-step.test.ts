// Data-parallel steps across Gloo processes equal single-process training on
// the same global batches: 2 and 3 processes, uneven shards, an L2 penalty,
// SGD with momentum, 3 epochs (see fixtures/distributed-train.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { shardRows } from '../../src/parallel/distributed-step.js';
import { glooSkipReason, runGroup } from './helpers.js';

const TRAIN = new URL('./fixtures/distributed-train.ts', import.meta.url).pathname;

test("shardRows splits a batch as Keras's get_slice: equal parts, the last one also the rest", () => {
  assert.deepEqual([0, 1, 2].map((r) => shardRows(8, r, 3)), [
    { start: 0, rows: 2 },
    { start: 2, rows: 2 },
    { start: 4, rows: 4 },
  ]);
  assert.deepEqual([0, 1, 2].map((r) => shardRows(2, r, 3)), [
    { start: 0, rows: 0 },
    { start: 0, rows: 0 },
    { start: 0, rows: 2 },
  ]);
  for (const [n, size] of [[10, 4], [7, 7], [1, 1], [128, 3]]) {
    const parts = Array.from({ length: size }, (_, r) => shardRows(n, r, size));
    assert.equal(parts.reduce((a, p) => a + p.rows, 0), n);
    parts.slice(1).forEach((p, i) => assert.equal(p.start, parts[i].start + parts[i].rows));
  }
});

interface Trained {
  rank: number;
  weights: Record<string, number[]>;
  losses: number[];
}

describe('DistributedStep across processes', { skip: glooSkipReason() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'rxkeras-dp-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { RXKERAS_BACKEND: 'cpu', RXKERAS_STORE: `file://${dir}` };
  let single: Promise<Trained>;
  const reference = () =>
    (single ??= runGroup(1, ['single'], { ...env, RXKERAS_RUN_ID: 'single' }, 60_000, TRAIN).then(([m]) => m.lines[0] as unknown as Trained));

  for (const size of [2, 3]) {
    test(`${size} processes train 3 epochs to the weights of one process on the same global batches (1e-5 relative)`, async () => {
      const [members, alone] = await Promise.all([runGroup(size, ['gloo'], { ...env, RXKERAS_RUN_ID: `dp${size}` }, 60_000, TRAIN), reference()]);
      const results = members.map((m) => m.lines[0] as unknown as Trained);
      assert.equal(results.length, size);
      for (const r of results) {
        // Every member ends with the same weights, bit for bit.
        assert.deepEqual(r.weights, results[0].weights);
        assert.equal(r.losses.length, alone.losses.length);
        r.losses.forEach((l, i) => assert.ok(Math.abs(l - alone.losses[i]) <= 1e-5 * Math.abs(alone.losses[i]), `loss of step ${i}: ${l} vs ${alone.losses[i]}`));
      }
      for (const [path, expected] of Object.entries(alone.weights)) {
        const scale = Math.max(...expected.map(Math.abs));
        const worst = Math.max(...expected.map((e, i) => Math.abs(results[0].weights[path][i] - e)));
        assert.ok(worst <= 1e-5 * scale, `${path}: max difference ${worst} against max |w| ${scale}`);
      }
    });
  }
});
