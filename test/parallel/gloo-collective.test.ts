// The Gloo collective between real processes on loopback: exact results with
// 2 and 3 members, both stores and both all-reduce algorithms, a free event
// loop while an all-reduce runs, and typed errors naming a lost member; the
// same for processes that say they share this host (all-reduces in host
// memory), and their fall-back to TCP where one cannot map the memory.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { freePort, glooSkipReason, redisSkipReason, runGroup, spawnMember, startRedis, type Member, type Redis } from './helpers.js';

const skip = glooSkipReason() ?? redisSkipReason();
let run = 0;
const runId = () => `test-${process.pid}-${run++}`;

function checkOps(members: Member[], size: number, hostLocal = false): void {
  for (const m of members) assert.equal(m.lines.length, 1, JSON.stringify(m.lines));
  const results = members.map((m) => m.lines[0]).sort((a, b) => (a.rank as number) - (b.rank as number));
  const rankSum = (size * (size - 1)) / 2;
  results.forEach((r, rank) => {
    assert.equal(r.rank, rank);
    assert.equal(r.size, size);
    assert.equal(r.hostLocal, hostLocal);
    // The in-place buffer summed where it is, and a view into it summed all the same.
    assert.deepEqual(r.inPlace, { head: [0, 1, 2].map((i) => rankSum + size * i), inner: [2 * rankSum, 2 * rankSum, 2 * rankSum] });
    // Integer sums are exact in float32: every member holds the exact sum.
    assert.deepEqual(r.shared, Array.from({ length: 1021 }, (_, i) => 1000 * rankSum + size * i));
    assert.deepEqual(r.plain, new Array(3).fill(rankSum + size / 2));
    assert.deepEqual(r.cast, [0, 1, 2, 3, 4].map((i) => i * 1.25 - 2));
  });
}

/** The first member's sum of 3s, and the ticks of its 10 ms timer while it waited (see the worker's timer scenario), through host memory or not. */
function checkTimer(members: Member[], hostLocal: boolean): void {
  const first = members[0].lines[0];
  assert.equal(first.hostLocal, hostLocal);
  assert.equal(first.first, 3);
  assert.equal(first.last, 3);
  assert.ok((first.ticks as number) >= 10, `ticks during the all-reduce: ${first.ticks}`);
}

/**
 * Three members all-reducing in a loop (through host memory or not); member
 * 1 is killed with SIGKILL once they run. The others must fail with
 * LostRankError naming it in an all-reduce: their last lines, and when the
 * kill was sent.
 */
async function killOneOfThree(env: NodeJS.ProcessEnv, hostLocal: boolean): Promise<{ errors: Record<string, unknown>[]; killedAt: number }> {
  let ready = 0;
  let markReady: () => void;
  const allReady = new Promise<void>((resolve) => (markReady = resolve));
  const members = [0, 1, 2].map((rank) =>
    spawnMember(['loop'], { ...env, RXKERAS_WORLD_SIZE: '3', RXKERAS_HOST: '127.0.0.1', RXKERAS_RANK: String(rank) }, (line) => line.ready && ++ready === 3 && markReady()),
  );
  const guard = setTimeout(() => members.forEach((m) => m.child.kill('SIGKILL')), 20_000);
  try {
    await allReady;
    await new Promise((r) => setTimeout(r, 200)); // all-reduces are running
    for (const m of members) assert.equal(m.lines[0].hostLocal, hostLocal);
    const killedAt = Date.now();
    members[1].child.kill('SIGKILL');
    assert.deepEqual(await Promise.all(members.map((m) => m.exited)), [1, 'SIGKILL', 1]);
    const errors = [0, 2].map((rank) => members[rank].lines.at(-1)!);
    for (const error of errors) {
      assert.equal(error.error, 'LostRankError', JSON.stringify(error));
      assert.deepEqual(error.lostRanks, [1]);
      assert.equal(error.op, 'all-reduce');
    }
    return { errors, killedAt };
  } finally {
    clearTimeout(guard);
  }
}

describe('Gloo collective across processes', { skip }, () => {
  let redis: Redis;
  let dir: string;
  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'rxkeras-gloo-test-'));
  });
  after(async () => {
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const fileStore = () => ({ RXKERAS_STORE: `file://${dir}`, RXKERAS_RUN_ID: runId(), RXKERAS_TIMEOUT_MS: '10000' });
  const redisStore = () => ({ RXKERAS_STORE: redis.address, RXKERAS_RUN_ID: runId(), RXKERAS_TIMEOUT_MS: '10000' });

  test('2 processes, file store, ring: all-reduce (a SharedArrayBuffer view too), broadcast and barrier give exact results', async () => {
    const members = await runGroup(2, ['ops', 'ring'], fileStore());
    assert.deepEqual(await Promise.all(members.map((m) => m.exited)), [0, 0]);
    checkOps(members, 2);
  });

  test('3 processes, Redis store, ring', async () => {
    const members = await runGroup(3, ['ops', 'ring'], redisStore());
    checkOps(members, 3);
  });

  test('3 processes, file store, bcube', async () => {
    const members = await runGroup(3, ['ops', 'bcube'], fileStore());
    checkOps(members, 3);
  });

  test('the event loop stays free: a 10 ms timer fires while an all-reduce of 16 MB waits 400 ms for its peer', async () => {
    checkTimer(await runGroup(2, ['timer'], redisStore()), false);
  });

  test('a member killed with SIGKILL: the others reject within the timeout with LostRankError naming it', async () => {
    const timeoutMs = 4000;
    const { errors, killedAt } = await killOneOfThree({ ...redisStore(), RXKERAS_TIMEOUT_MS: String(timeoutMs) }, false);
    for (const error of errors) {
      assert.match(error.message as string, /rank\(s\) 1 stopped responding/);
      assert.ok((error.at as number) - killedAt < timeoutMs + 2000, `failed ${(error.at as number) - killedAt} ms after the kill`);
    }
  });

  test('a member that never comes: RendezvousError naming it once the timeout passes', async () => {
    const env = { ...fileStore(), RXKERAS_WORLD_SIZE: '3', RXKERAS_HOST: '127.0.0.1', RXKERAS_TIMEOUT_MS: '1500' };
    const members = [0, 1].map((rank) => spawnMember(['join'], { ...env, RXKERAS_RANK: String(rank) }));
    assert.deepEqual(await Promise.all(members.map((m) => m.exited)), [1, 1]);
    for (const m of members) {
      assert.equal(m.lines[0].error, 'RendezvousError');
      assert.deepEqual(m.lines[0].missingRanks, [2]);
      assert.match(m.lines[0].message as string, /rank\(s\) 2 did not join within 1500 ms/);
    }
  });

  test('a member that stalls past the timeout: CollectiveTimeoutError for the one waiting; the late one finds it gone', async () => {
    const members = await runGroup(2, ['stall'], { ...redisStore(), RXKERAS_TIMEOUT_MS: '1000' });
    const [waiting, late] = members.map((m) => m.lines[0]);
    assert.equal(waiting.error, 'CollectiveTimeoutError', JSON.stringify(waiting));
    assert.equal(waiting.timeoutMs, 1000);
    assert.match(waiting.message as string, /all-reduce #0 did not complete within 1000 ms/);
    assert.equal(late.error, 'LostRankError', JSON.stringify(late));
    assert.deepEqual(late.lostRanks, [0]);
    assert.match(late.message as string, /rank\(s\) 0 left the group/);
  });

  test('a store that cannot be reached: RendezvousError saying where', async () => {
    const port = await freePort(); // nothing listens there
    const [member] = await runGroup(1, ['join'], { RXKERAS_STORE: `redis://127.0.0.1:${port}`, RXKERAS_RUN_ID: runId() });
    assert.equal(member.lines[0].error, 'RendezvousError');
    assert.match(member.lines[0].message as string, new RegExp(`cannot reach the Redis store at 127.0.0.1:${port}`));
  });

  test('a run id used before in the same store is refused (Gloo writes its keys once)', async () => {
    const env = { ...redisStore(), RXKERAS_WORLD_SIZE: '1', RXKERAS_RANK: '0' };
    const first = spawnMember(['join'], env);
    assert.equal(await first.exited, 0);
    const again = spawnMember(['join'], env);
    assert.equal(await again.exited, 1);
    assert.equal(again.lines[0].error, 'RendezvousError');
    assert.match(again.lines[0].message as string, /has already joined through this store/);
  });
});

/** Why a member cannot be given a /dev/shm of its own (a mount namespace: root and unshare), or undefined. */
function privateShmSkipReason(): string | undefined {
  try {
    execFileSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /dev/shm'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'needs root and unshare(1) to give a member a /dev/shm of its own';
  }
}

describe('Gloo collective of processes on one host (all-reduces in host memory)', { skip }, () => {
  let redis: Redis;
  let dir: string;
  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'rxkeras-host-test-'));
  });
  after(async () => {
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const local = (size: number) => ({ RXKERAS_LOCAL_WORLD_SIZE: String(size), RXKERAS_STORE: `file://${dir}`, RXKERAS_RUN_ID: runId(), RXKERAS_TIMEOUT_MS: '10000' });

  test('2 and 3 processes: all-reduce (in place, a view into the in-place buffer, a SharedArrayBuffer view), broadcast and barrier give exact results', async () => {
    checkOps(await runGroup(2, ['ops'], local(2)), 2, true);
    checkOps(await runGroup(3, ['ops'], { ...local(3), RXKERAS_STORE: redis.address }), 3, true);
  });

  test('RXKERAS_HOST_MEMORY=0 keeps the all-reduces on TCP', async () => {
    checkOps(await runGroup(2, ['ops'], { ...local(2), RXKERAS_HOST_MEMORY: '0' }), 2, false);
  });

  test('a member that cannot map the memory (a /dev/shm of its own): every member falls back to TCP, with exact results', { skip: privateShmSkipReason() }, async () => {
    const env = { ...local(2), RXKERAS_WORLD_SIZE: '2', RXKERAS_HOST: '127.0.0.1' };
    const members = [
      spawnMember(['ops'], { ...env, RXKERAS_RANK: '0' }),
      spawnMember(['ops'], { ...env, RXKERAS_RANK: '1' }, undefined, undefined, ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs tmpfs /dev/shm && exec "$0" "$@"']),
    ];
    const guard = setTimeout(() => members.forEach((m) => m.child.kill('SIGKILL')), 20_000);
    try {
      assert.deepEqual(await Promise.all(members.map((m) => m.exited)), [0, 0]);
    } finally {
      clearTimeout(guard);
    }
    checkOps(members, 2, false);
  });

  test('4 processes as 2 hosts of 2 (RXKERAS_LOCAL_WORLD_SIZE=2): two tiers, host memory then TCP across hosts, with exact results', async () => {
    const members = await runGroup(4, ['ops'], local(2));
    checkOps(members, 4, true);
    for (const m of members) assert.equal(m.lines[0].hierarchical, true);
  });

  test('members that say different host sizes (RXKERAS_LOCAL_WORLD_SIZE 2, 2, 4, 4) all keep one group over TCP, with exact results', async () => {
    const env = { ...local(2), RXKERAS_WORLD_SIZE: '4', RXKERAS_HOST: '127.0.0.1' };
    const members = [0, 1, 2, 3].map((rank) => spawnMember(['ops'], { ...env, RXKERAS_RANK: String(rank), RXKERAS_LOCAL_WORLD_SIZE: rank < 2 ? '2' : '4' }));
    const guard = setTimeout(() => members.forEach((m) => m.child.kill('SIGKILL')), 20_000);
    try {
      assert.deepEqual(await Promise.all(members.map((m) => m.exited)), [0, 0, 0, 0]);
    } finally {
      clearTimeout(guard);
    }
    checkOps(members, 4, false);
    for (const m of members) assert.equal(m.lines[0].hierarchical, false);
  });

  test('the event loop stays free: a 10 ms timer fires while an all-reduce of 16 MB (in chunks) waits 400 ms for its peer', async () => {
    checkTimer(await runGroup(2, ['timer'], local(2)), true);
  });

  test('a member killed with SIGKILL: the others reject within a second with LostRankError naming it', async () => {
    const { errors, killedAt } = await killOneOfThree(local(3), true);
    for (const error of errors) assert.ok((error.at as number) - killedAt < 1000, `failed ${(error.at as number) - killedAt} ms after the kill`);
  });

  test('a member that stalls past the timeout: CollectiveTimeoutError for the one waiting; the late one finds the group aborted', async () => {
    const members = await runGroup(2, ['stall'], { ...local(2), RXKERAS_TIMEOUT_MS: '1000' });
    const [waiting, late] = members.map((m) => m.lines[0]);
    assert.equal(waiting.error, 'CollectiveTimeoutError', JSON.stringify(waiting));
    assert.equal(waiting.timeoutMs, 1000);
    assert.equal(late.error, 'CollectiveError', JSON.stringify(late));
    assert.match(late.message as string, /aborted/);
  });
});
