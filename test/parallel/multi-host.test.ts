// Two hosts simulated by network namespaces the test creates (a veth pair
// between them), one `rxkeras launch` per host, meeting through a Redis store
// that runs on the first host: the group forms across the link and computes.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import { BIN } from '../cli/helpers.js';
import { glooSkipReason, stop, WORKER } from './helpers.js';
import { makeHosts } from './netns.js';

const made = glooSkipReason() ?? makeHosts(`t${process.pid % 10000}`);
const hosts = typeof made === 'string' ? undefined : made;
const children: ChildProcess[] = [];
after(async () => {
  await Promise.all(children.map(stop));
  hosts?.remove();
});

function inHost(host: number, command: string, args: string[]): { child: ChildProcess; out: Promise<string> } {
  const child = spawn('ip', ['netns', 'exec', hosts!.names[host], command, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk));
  return { child, out: new Promise((resolve) => child.on('exit', () => resolve(text))) };
}

test('two hosts in network namespaces: one launch each, a Redis store on the first, all-reduce and broadcast across the link', { skip: typeof made === 'string' ? made : false }, async () => {
  const [a, b] = hosts!.addresses;
  const redis = inHost(0, 'redis-server', ['--bind', a, '--port', '6379', '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start within 5 s')), 5000);
    redis.child.stdout!.on('data', (chunk: Buffer) => /ready to accept/i.test(String(chunk)) && (clearTimeout(timer), resolve()));
  });
  const store = `redis://${a}:6379`;
  const launches = [a, b].map((address, host) =>
    inHost(host, process.execPath, [
      BIN, 'launch', '--nproc', '1', '--nnodes', '2', '--node-rank', String(host), '--store', store, '--run-id', 'netns', '--host', address, '--timeout', '15000', WORKER, 'ops',
    ]),
  );
  const guard = setTimeout(() => launches.forEach((l) => void stop(l.child)), 60_000);
  const outs = await Promise.all(launches.map((l) => l.out));
  clearTimeout(guard);
  assert.deepEqual(
    launches.map((l) => l.child.exitCode),
    [0, 0],
  );
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
});
