// TwoLevelCollective with real parts: 4 worker threads in this process play
// 2 processes x 2 replicas (a shared-memory group per "process", a Gloo group
// per local rank through a file store on loopback).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tsWorker } from '../helpers/ts-worker.js';
import { createSharedGroup } from '../../src/parallel/shared-memory-collective.js';
import { glooSkipReason } from './helpers.js';

const MEMBER = new URL('./fixtures/two-level-member.ts', import.meta.url);

test('two levels: all-reduce, broadcast, barrier and reduce-scatter / all-gather over 2 processes x 2 replicas give exact sums', { skip: glooSkipReason() }, async () => {
  const store = mkdtempSync(join(tmpdir(), 'rxkeras-two-level-'));
  const groups = [createSharedGroup(2, 8), createSharedGroup(2, 8)];
  const workers = [0, 1].flatMap((process) =>
    [0, 1].map((local) => tsWorker(MEMBER, { group: groups[process], local, process, store })),
  );
  try {
    const results = (await Promise.all(
      workers.map(
        (w) =>
          new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('a member did not answer within 20 s')), 20_000);
            w.once('message', (m) => (clearTimeout(timer), resolve(m)));
            w.once('error', (e) => (clearTimeout(timer), reject(e)));
          }),
      ),
    )) as { error?: string; rank: number; size: number; localRank: number; summed: number[]; cast: number[]; range: number[]; gathered: number[] }[];
    results.forEach((r, i) => {
      assert.equal(r.error, undefined);
      // Global rank = process x replicas + local rank.
      assert.deepEqual([r.rank, r.size, r.localRank], [i, 4, i % 2]);
      assert.deepEqual(r.summed, [0, 1, 2, 3, 4].map((j) => 60 + 4 * j));
      assert.deepEqual(r.cast, [3, 3, 3]);
      // Local rank l holds the whole group's sum (6 + 4j) of its range; the all-gather shares both ranges, doubled by their owners.
      assert.deepEqual(r.range, (r.localRank === 0 ? [0, 1, 2] : [3, 4, 5]).map((j) => 6 + 4 * j));
      assert.deepEqual(r.gathered, [0, 1, 2, 3, 4, 5].map((j) => 2 * (6 + 4 * j)));
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    rmSync(store, { recursive: true, force: true });
  }
});
