// distributedModel's fit across Gloo processes (fixtures/distributed-fit.ts):
// 2 processes under `rxkeras launch` and 3 started here train 3 epochs to the
// weights and logs of Model.fit in one process, from arrays and from a
// Dataset each process shards; rank 0 alone writes the checkpoint and the CSV
// log. A member killed with SIGKILL mid-epoch makes the others fail with
// LostRankError naming it, the last checkpoint loads, and a relaunch resumes
// from it with initialEpoch. Runs that say their processes share this host
// (launch, RXKERAS_LOCAL_WORLD_SIZE) all-reduce in its memory, the others over
// TCP; with compiled steps, they update the weights in that memory, each its range.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { rxkeras } from '../cli/helpers.js';
import { assertClose, assertTrainedAlike, glooSkipReason, runGroup, stop, type TrainedRun } from './helpers.js';

const FIT = new URL('./fixtures/distributed-fit.ts', import.meta.url).pathname;
const TIMEOUT_MS = 5000;

interface Trained extends TrainedRun {
  rank: number;
  epochs: number[];
  evaluation: Record<string, number>;
}

const read = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

/** Model.fit in one process. */
async function single(dir: string, ...args: string[]): Promise<Trained> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIT, 'single', dir, ...args], { env: { ...process.env, RXKERAS_BACKEND: 'cpu' }, stdio: 'inherit' });
  const timer = setTimeout(() => void stop(child), 60_000);
  const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? s)));
  clearTimeout(timer);
  assert.equal(code, 0);
  return read<Trained>(join(dir, 'single-0.json'));
}

describe('distributed fit across processes', { skip: glooSkipReason() }, () => {
  const root = mkdtempSync(join(tmpdir(), 'rxkeras-dfit-test-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const folder = (name: string) => mkdtempSync(join(root, `${name}-`));
  const env = (dir: string, runId: string) => ({ RXKERAS_BACKEND: 'cpu', RXKERAS_STORE: `file://${dir}`, RXKERAS_RUN_ID: runId, RXKERAS_TIMEOUT_MS: String(TIMEOUT_MS) });
  let reference: Promise<Trained>;
  const alone = () => (reference ??= single(folder('single')));

  /** Every member's weights and logs equal the others' and those of one process. */
  /** `hostLocal`: whether the members all-reduced in host memory (they say they share this host) or over TCP. */
  function compare(dir: string, size: number, expected: Trained, hostLocal: boolean): void {
    const results = Array.from({ length: size }, (_, rank) => read<Trained & { hostLocal: boolean }>(join(dir, `gloo-${rank}.json`)));
    for (const r of results) assert.equal(r.hostLocal, hostLocal);
    assert.deepEqual(Object.keys(results[0].history).sort(), Object.keys(expected.history).sort());
    // Every member ends with the same weights, bit for bit, and logs the same: those of one process.
    assertTrainedAlike(results, expected);
    // evaluate, each member scoring its rows of every batch, gives the logs of one process on every member.
    assert.deepEqual(Object.keys(results[0].evaluation).sort(), Object.keys(expected.evaluation).sort());
    for (const r of results) for (const [name, v] of Object.entries(expected.evaluation)) assertClose(r.evaluation[name], v, `evaluate's ${name} on rank ${r.rank}`);
  }

  function checkRun(dir: string, size: number, expected: Trained, hostLocal: boolean): void {
    compare(dir, size, expected, hostLocal);
    // Rank 0 alone wrote the checkpoint and the log.
    assert.ok(existsSync(join(dir, 'ckpt.h5')));
    assert.equal(readFileSync(join(dir, 'log.csv'), 'utf8').trim().split('\n').length, 4);
    for (let rank = 1; rank < size; rank++) assert.ok(!existsSync(join(dir, `ckpt-${rank}.h5`)) && !existsSync(join(dir, `log-${rank}.csv`)), `rank ${rank} wrote files`);
  }

  test('2 processes under rxkeras launch train 3 epochs with fit to the weights and logs of one process (1e-5 relative)', async () => {
    const dir = folder('launch2');
    const [run, expected] = await Promise.all([rxkeras(['launch', '--nproc', '2', '--timeout', String(TIMEOUT_MS), FIT, 'gloo', dir], { RXKERAS_BACKEND: 'cpu' }), alone()]);
    assert.equal(run.code, 0, run.stderr);
    // launch says the processes share this host: their all-reduces go through its memory.
    checkRun(dir, 2, expected, true);
  });

  test('2 processes with compiled steps under rxkeras launch each update their range of the weights in host memory, and train to the weights and logs of one process (1e-5 relative)', async () => {
    const dir = folder('inplace2');
    const [run, expected] = await Promise.all([rxkeras(['launch', '--nproc', '2', '--timeout', String(TIMEOUT_MS), FIT, 'gloo', dir], { RXKERAS_BACKEND: 'compiled' }), alone()]);
    assert.equal(run.code, 0, run.stderr);
    checkRun(dir, 2, expected, true);
    for (const rank of [0, 1]) assert.equal(read<{ updatesInPlace: boolean }>(join(dir, `gloo-${rank}.json`)).updatesInPlace, true, `rank ${rank} updated in place`);
  });

  test('4 processes as 2 hosts of 2 (RXKERAS_LOCAL_WORLD_SIZE=2) all-reduce in two tiers, host memory then TCP across hosts, and with compiled steps update their ranges in place: the weights and logs of one process (1e-5 relative)', async () => {
    const dir = folder('tiers4');
    const [members, expected] = await Promise.all([runGroup(4, ['gloo', dir], { ...env(dir, 'tiers4'), RXKERAS_LOCAL_WORLD_SIZE: '2', RXKERAS_BACKEND: 'compiled' }, 90_000, FIT), alone()]);
    assert.deepEqual(await Promise.all(members.map((m) => m.exited)), [0, 0, 0, 0]);
    checkRun(dir, 4, expected, true);
    for (const rank of [0, 1, 2, 3]) {
      const r = read<{ hierarchical: boolean; updatesInPlace: boolean }>(join(dir, `gloo-${rank}.json`));
      assert.deepEqual([r.hierarchical, r.updatesInPlace], [true, true], `rank ${rank}: two tiers, updated in place`);
    }
  });

  test('in two tiers (2 hosts of 2), a member killed with SIGKILL mid-epoch: every other fails with LostRankError naming it, also the one that shares no tier with it', async () => {
    const dir = folder('tiers-kill');
    const killed = await runGroup(4, ['gloo', dir, 'kill-at-epoch-1'], { ...env(dir, 'tiers-kill'), RXKERAS_LOCAL_WORLD_SIZE: '2' }, 60_000, FIT);
    assert.deepEqual(await Promise.all(killed.map((m) => m.exited)), [3, 'SIGKILL', 3, 3]);
    const { at } = read<{ at: number }>(join(dir, 'killed.json'));
    // Rank 0 shares host memory with rank 1, rank 3 its cross-host group; rank 2 neither (it sees rank 0 or 3 leave).
    for (const rank of [0, 2, 3]) {
      const error = read<{ error: string; message: string; lostRanks: number[]; at: number }>(join(dir, `error-${rank}.json`));
      assert.equal(error.error, 'LostRankError', error.message);
      assert.deepEqual(error.lostRanks, [1], error.message);
      assert.ok(error.at - at < TIMEOUT_MS + 5000, `rank ${rank} failed ${error.at - at} ms after the kill`);
    }
  });

  test('3 processes train 3 epochs with fit to the weights and logs of one process (1e-5 relative)', async () => {
    const dir = folder('group3');
    const [members, expected] = await Promise.all([runGroup(3, ['gloo', dir], env(dir, 'fit3'), 60_000, FIT), alone()]);
    assert.deepEqual(await Promise.all(members.map((m) => m.exited)), [0, 0, 0]);
    checkRun(dir, 3, expected, false);
  });

  test("3 processes each reading only their shard of a Dataset (shard before batch), without metrics, with a loss of reduction 'sum', train to the weights and logs of one process on the global batches", async () => {
    const dir = folder('dataset3');
    const [members, expected] = await Promise.all([runGroup(3, ['gloo', dir, 'dataset'], { ...env(dir, 'ds3'), RXKERAS_LOCAL_WORLD_SIZE: '3' }, 60_000, FIT), single(folder('single-ds'), 'dataset')]);
    assert.deepEqual(await Promise.all(members.map((m) => m.exited)), [0, 0, 0]);
    // Compiled without metrics: no predictions are gathered, the loss is still the whole batch's.
    assert.deepEqual(Object.keys(expected.history).sort(), ['loss', 'val_loss']);
    compare(dir, 3, expected, true);
    assert.equal(readFileSync(join(dir, 'log.csv'), 'utf8').trim().split('\n').length, 4);
  });

  test('a member killed with SIGKILL mid-epoch: the others fail with LostRankError naming it; the checkpoint loads and a relaunch resumes from it', async () => {
    const dir = folder('kill');
    const killed = await runGroup(3, ['gloo', dir, 'kill-at-epoch-1'], env(dir, 'kill'), 60_000, FIT);
    assert.deepEqual(await Promise.all(killed.map((m) => m.exited)), [3, 'SIGKILL', 3]);
    const { at } = read<{ at: number }>(join(dir, 'killed.json'));
    for (const rank of [0, 2]) {
      const error = read<{ error: string; message: string; lostRanks: number[]; at: number }>(join(dir, `error-${rank}.json`));
      assert.equal(error.error, 'LostRankError', error.message);
      assert.deepEqual(error.lostRanks, [1]);
      assert.ok(error.at - at < TIMEOUT_MS + 3000, `rank ${rank} failed ${error.at - at} ms after the kill`);
    }
    // Epoch 0's checkpoint and log row, written by rank 0 before the kill.
    assert.equal(readFileSync(join(dir, 'log.csv'), 'utf8').trim().split('\n').length, 2);
    // The relaunch is not timed: a longer bound keeps a slow start on a loaded machine from failing its rendezvous. It
    // all-reduces in host memory (the killed run used TCP).
    const resumed = await runGroup(3, ['gloo', dir, 'resume'], { ...env(dir, 'resume'), RXKERAS_TIMEOUT_MS: '20000', RXKERAS_LOCAL_WORLD_SIZE: '3' }, 60_000, FIT);
    const errors = () => [0, 1, 2].filter((rank) => existsSync(join(dir, `error-${rank}.json`))).map((rank) => readFileSync(join(dir, `error-${rank}.json`), 'utf8'));
    assert.deepEqual(await Promise.all(resumed.map((m) => m.exited)), [0, 0, 0], errors().join('\n'));
    const results = [0, 1, 2].map((rank) => read<Trained & { hostLocal: boolean }>(join(dir, `gloo-${rank}.json`)));
    for (const r of results) {
      assert.equal(r.hostLocal, true);
      assert.deepEqual(r.epochs, [1, 2]);
      assert.deepEqual(r.weights, results[0].weights);
    }
    assert.equal(readFileSync(join(dir, 'log.csv'), 'utf8').trim().split('\n').length, 4);
  });
});
