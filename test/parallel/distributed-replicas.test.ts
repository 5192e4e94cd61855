// Processes x replicas (fixtures/distributed-replicas.ts): 2 Gloo processes,
// each training on 2 worker-thread replicas, end with the weights and logs
// of Model.fit in one process on the same global batches; a replica whose
// worker ends makes every process fail with a typed error. Both as the
// processes are started here (the replicas' groups across them over TCP)
// and as `launch` starts them on one host (in host memory); and 4 processes
// as 2 hosts of 2, whose replicas' groups cross in two tiers (host memory,
// then TCP between the hosts), some replicas with empty shards.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { assertTrainedAlike, glooSkipReason, runGroup, stop, type TrainedRun } from './helpers.js';

const FIT = new URL('./fixtures/distributed-replicas.ts', import.meta.url).pathname;
// Replicas meet in their own Gloo groups once their worker threads have started: on a loaded machine that start varies by seconds.
const TIMEOUT_MS = 15_000;

interface Trained extends TrainedRun {
  /** How the replicas' all-reduces crossed between the processes (DistributedModel.crossTransport). */
  transport?: string;
}

// As the processes are started here, and as `launch` starts them (it says how many share the host: their replicas meet in host memory).
const placements = [
  { name: 'over tcp', processes: 2, env: {}, transport: 'tcp', lost: /at step 2: LostRankError: .*rank\(s\) 1 left/ },
  { name: 'in host memory (as launch runs them)', processes: 2, env: { RXKERAS_LOCAL_WORLD_SIZE: '2' }, transport: 'host memory', lost: /at step 2: LostRankError: .*member 1 was lost/ },
  // Global batches of 7 over 4 x 2 replicas: some replicas step on no rows. (The fault test runs for the first two.)
  { name: 'in two tiers (as 2 hosts of 2)', processes: 4, env: { RXKERAS_LOCAL_WORLD_SIZE: '2' }, transport: 'two tiers' },
];

const read = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

describe('distributed fit, processes x replicas', { skip: glooSkipReason() }, () => {
  const root = mkdtempSync(join(tmpdir(), 'rxkeras-replicas-test-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const folder = (name: string) => mkdtempSync(join(root, `${name}-`));
  const env = (dir: string, runId: string) => ({ RXKERAS_BACKEND: 'cpu', RXKERAS_STORE: `file://${dir}`, RXKERAS_RUN_ID: runId, RXKERAS_TIMEOUT_MS: String(TIMEOUT_MS) });

  async function single(dir: string): Promise<Trained> {
    const child = spawn(process.execPath, ['--import', 'tsx', FIT, 'single', dir], { env: { ...process.env, RXKERAS_BACKEND: 'cpu' }, stdio: 'inherit' });
    const timer = setTimeout(() => void stop(child), 60_000);
    const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? s)));
    clearTimeout(timer);
    assert.equal(code, 0);
    return read<Trained>(join(dir, 'single-0.json'));
  }

  for (const placement of placements) {
    const ranks = [...Array(placement.processes).keys()];
    test(`${placement.processes} processes x 2 replicas ${placement.name} train 3 epochs (Adam) to the weights and logs of one process on the same global batches (1e-5 relative)`, async () => {
      const dir = folder(`${placement.processes}x2`);
      const [members, expected] = await Promise.all([runGroup(placement.processes, ['gloo', dir], { ...env(dir, 'x2'), ...placement.env }, 90_000, FIT), single(folder('single'))]);
      const failures = () => readdirSync(dir).filter((f) => f.startsWith('error-')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
      assert.deepEqual(await Promise.all(members.map((m) => m.exited)), ranks.map(() => 0), failures());
      const results = ranks.map((rank) => read<Trained>(join(dir, `gloo-${rank}.json`)));
      assert.deepEqual(results.map((r) => r.transport), ranks.map(() => placement.transport));
      assert.deepEqual(Object.keys(results[0].history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
      // Every process ends with the same weights, bit for bit, and logs the same: those of one process.
      assertTrainedAlike(results, expected);
    });

    if (!placement.lost) continue;
    const lost = placement.lost;
    test(`a replica's worker that ends mid-step, ${placement.name}: both processes' fit fail with a typed error, no hang`, async () => {
      const dir = folder('exit');
      const members = await runGroup(2, ['gloo', dir, 'replica-exit'], { ...env(dir, 'exit'), ...placement.env }, 60_000, FIT);
      assert.deepEqual(await Promise.all(members.map((m) => m.exited)), [3, 3]);
      const [other, own] = [0, 1].map((rank) => read<{ error: string; reason?: string; cause?: string; message: string; at: number }>(join(dir, `error-${rank}.json`)));
      // Rank 1's second replica (/cpu:2) ended its worker at epoch 0's third step (step 2).
      assert.equal(own.error, 'DeviceError', own.message);
      assert.equal(own.reason, 'died');
      assert.match(own.message, /device \/cpu:2 at step 2: its worker died/);
      // Rank 0's replicas lose their peers in rank 1 (its replicas' groups are left as its workers end).
      assert.equal(other.error, 'DeviceError', other.message);
      assert.equal(other.cause, 'LostRankError', other.message);
      assert.match(other.message, lost);
      // At once, not by the timeout: rank 1's replicas leave their groups as its workers end.
      assert.ok(other.at - own.at < 5000, `rank 0 failed ${other.at - own.at} ms after rank 1`);
    });
  }
});
