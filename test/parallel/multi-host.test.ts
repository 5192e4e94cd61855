// Two hosts simulated by network namespaces the test creates (a veth pair
// between them), one `rxkeras launch` per host, meeting through a Redis store
// that runs on the first host: a group forms across the link and computes,
// another trains with distributedModel's fit (fixtures/distributed-fit.ts),
// and one more with two processes per host (two tiers: host memory, then the link).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BIN } from '../cli/helpers.js';
import { glooSkipReason, stop, WORKER } from './helpers.js';
import { makeHosts } from './netns.js';

const made = glooSkipReason() ?? makeHosts(`t${process.pid % 10000}`);
const hosts = typeof made === 'string' ? undefined : made;
const FIT = new URL('./fixtures/distributed-fit.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'rxkeras-netns-test-'));
const children: ChildProcess[] = [];
after(async () => {
  await Promise.all(children.map(stop));
  hosts?.remove();
  rmSync(dir, { recursive: true, force: true });
});

function inHost(host: number, command: string, args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; out: Promise<string> } {
  const child = spawn('ip', ['netns', 'exec', hosts!.names[host], command, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RXKERAS_BACKEND: 'cpu', ...env } });
  children.push(child);
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk));
  return { child, out: new Promise((resolve) => child.on('exit', () => resolve(text))) };
}

test('two hosts in network namespaces: one launch each, a Redis store on the first; all-reduce and broadcast, and training with fit, across the link', { skip: typeof made === 'string' ? made : false }, async () => {
  const [a, b] = hosts!.addresses;
  const redis = inHost(0, 'redis-server', ['--bind', a, '--port', '6379', '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start within 5 s')), 5000);
    redis.child.stdout!.on('data', (chunk: Buffer) => /ready to accept/i.test(String(chunk)) && (clearTimeout(timer), resolve()));
  });
  const store = `redis://${a}:6379`;
  const launch = (runId: string, script: string[], nproc = 1, env: NodeJS.ProcessEnv = {}) =>
    [a, b].map((address, host) =>
      inHost(host, process.execPath, [
        BIN, 'launch', '--nproc', String(nproc), '--nnodes', '2', '--node-rank', String(host), '--store', store, '--run-id', runId, '--host', address, '--timeout', '15000', ...script,
      ], env),
    );
  const launches = [...launch('netns', [WORKER, 'ops']), ...launch('netns-fit', [FIT, 'gloo', dir])];
  const guard = setTimeout(() => launches.forEach((l) => void stop(l.child)), 90_000);
  const all = await Promise.all(launches.map((l) => l.out));
  clearTimeout(guard);
  // A launch that failed printed why (its members' JSON lines): shown with the codes.
  assert.deepEqual(
    launches.map((l) => l.child.exitCode),
    [0, 0, 0, 0],
    `exit codes; the launches printed: ${JSON.stringify(all)}`,
  );
  const outs = all.slice(0, 2);
  // Both hosts end training with the same weights and logs; host 0 wrote the checkpoint.
  const trained = [0, 1].map((rank) => JSON.parse(readFileSync(join(dir, `gloo-${rank}.json`), 'utf8')) as { weights: unknown; history: Record<string, number[]> });
  assert.deepEqual(trained[1].weights, trained[0].weights);
  assert.deepEqual(trained[1].history, trained[0].history);
  assert.equal(trained[0].history.loss.length, 3);
  assert.ok(existsSync(join(dir, 'ckpt.h5')) && !existsSync(join(dir, 'ckpt-1.h5')));
  const results = outs.map((o) => JSON.parse(o.trim()) as { rank: number; size: number; plain: number[]; shared: number[] });
  assert.deepEqual(
    results.map((r) => [r.rank, r.size]),
    [
      [0, 2],
      [1, 2],
    ],
  );
  for (const r of results) {
    assert.deepEqual(r.plain, [2, 2, 2]);
    assert.equal(r.shared[1020], 1000 + 2 * 1020);
  }

  // Two processes per host: each host's pair sums in its memory, the pairs across the link (two tiers), and with
  // compiled steps each process updates its range of the weights in place; all four end as one.
  const tiers = join(dir, 'tiers');
  mkdirSync(tiers);
  const pairs = launch('netns-tiers', [FIT, 'gloo', tiers], 2, { RXKERAS_BACKEND: 'compiled' });
  const pairGuard = setTimeout(() => pairs.forEach((l) => void stop(l.child)), 90_000);
  const printed = await Promise.all(pairs.map((l) => l.out));
  clearTimeout(pairGuard);
  assert.deepEqual(pairs.map((l) => l.child.exitCode), [0, 0], `exit codes; the launches printed: ${JSON.stringify(printed)}`);
  const four = [0, 1, 2, 3].map((rank) => JSON.parse(readFileSync(join(tiers, `gloo-${rank}.json`), 'utf8')) as { weights: unknown; history: unknown; hierarchical: boolean; updatesInPlace: boolean });
  for (const [rank, r] of four.entries()) {
    assert.deepEqual([r.hierarchical, r.updatesInPlace], [true, true], `rank ${rank}: two tiers, updated in place`);
    assert.deepEqual(r.weights, four[0].weights);
    assert.deepEqual(r.history, four[0].history);
  }
});
