// `rxkeras launch`: the environment of each process, arguments passed through,
// the first failure's exit code, forwarded signals, usage errors, and a real
// group of two meeting through the launcher's own store.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { BIN, rxkeras } from '../cli/helpers.js';
import { glooSkipReason, stop, WORKER } from './helpers.js';

const PROBE = new URL('./fixtures/launch-probe.ts', import.meta.url).pathname;
const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);

test('launch --nproc 3: ranks, world size, store and run id in each environment; the script gets its own options', async () => {
  const run = await rxkeras(['launch', '--nproc', '3', '--timeout', '9000', PROBE, 'env', '--nproc', '7', 'x']);
  assert.equal(run.code, 0, run.stderr);
  const lines = jsonLines(run.stdout).sort((a, b) => Number(a.env.RXKERAS_RANK) - Number(b.env.RXKERAS_RANK));
  assert.deepEqual(
    lines.map((l) => [l.env.RXKERAS_RANK, l.env.RXKERAS_LOCAL_RANK, l.env.RXKERAS_WORLD_SIZE, l.env.RXKERAS_LOCAL_WORLD_SIZE]),
    [
      ['0', '0', '3', '3'],
      ['1', '1', '3', '3'],
      ['2', '2', '3', '3'],
    ],
  );
  for (const l of lines) {
    assert.deepEqual(l.args, ['--nproc', '7', 'x']);
    assert.match(l.env.RXKERAS_STORE, /^file:\/\/\/.*rxkeras-store-/);
    assert.equal(l.env.RXKERAS_STORE, lines[0].env.RXKERAS_STORE);
    assert.equal(l.env.RXKERAS_RUN_ID, lines[0].env.RXKERAS_RUN_ID);
    assert.equal(l.env.RXKERAS_HOST, '127.0.0.1');
    assert.equal(l.env.RXKERAS_TIMEOUT_MS, '9000');
  }
});

test('launch on one of several hosts: --nnodes/--node-rank and --world-size/--rank-offset give the ranks', async () => {
  const store = 'redis://127.0.0.2:6379';
  const [byNode, byOffset] = await Promise.all([
    rxkeras(['launch', '--nproc', '2', '--nnodes', '3', '--node-rank', '2', '--store', store, '--run-id', 'r1', PROBE, 'env']),
    rxkeras(['launch', '--nproc', '1', '--world-size', '5', '--rank-offset', '4', '--store', store, '--run-id', 'r1', '--iface', 'eth1', PROBE, 'env']),
  ]);
  const ranks = (stdout: string) => jsonLines(stdout).map((l) => [Number(l.env.RXKERAS_RANK), Number(l.env.RXKERAS_WORLD_SIZE), l.env.RXKERAS_STORE, l.env.RXKERAS_RUN_ID]);
  assert.deepEqual(ranks(byNode.stdout).sort(), [
    [4, 6, store, 'r1'],
    [5, 6, store, 'r1'],
  ]);
  assert.deepEqual(ranks(byOffset.stdout), [[4, 5, store, 'r1']]);
  const [offsetEnv] = jsonLines(byOffset.stdout);
  assert.equal(offsetEnv.env.RXKERAS_IFACE, 'eth1');
  assert.equal(offsetEnv.env.RXKERAS_HOST, undefined); // across hosts the address is not loopback
});

test('launch usage errors: several hosts without a store or run id, a rank offset past the world, a missing script', async () => {
  const [noStore, noRunId, offset, missing] = await Promise.all([
    rxkeras(['launch', '--nproc', '2', '--nnodes', '2', PROBE, 'env']),
    rxkeras(['launch', '--nproc', '2', '--nnodes', '2', '--store', 'redis://127.0.0.2:6379', PROBE, 'env']),
    rxkeras(['launch', '--nproc', '2', '--world-size', '3', '--rank-offset', '2', '--store', 'file:///tmp/x', '--run-id', 'a', PROBE, 'env']),
    rxkeras(['launch', '--nproc', '2', '/nonexistent/train.ts']),
  ]);
  assert.equal(noStore.code, 1);
  assert.match(noStore.stderr, /store: expected a store every host reaches/);
  assert.match(noRunId.stderr, /run id: expected the same run id on every host/);
  assert.match(offset.stderr, /rank offset \+ nproc: expected at most the world size 3, got 4/);
  assert.match(missing.stderr, /'\/nonexistent\/train.ts': no such file or directory/);
  for (const run of [noStore, noRunId, offset, missing]) assert.equal(jsonLines(run.stdout).length, 0);
});

test('launch exits with the first failure\'s code and ends the other processes', async () => {
  const started = Date.now();
  const run = await rxkeras(['launch', '--nproc', '2', PROBE, 'fail']);
  assert.equal(run.code, 3);
  assert.deepEqual(jsonLines(run.stdout), []); // rank 0 was ended before its 60 s timer
  assert.ok(Date.now() - started < 30_000);
});

test('launch forwards SIGTERM to every process', async () => {
  const child = spawn(process.execPath, [BIN, 'launch', '--nproc', '2', PROBE, 'signal'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const guard = setTimeout(() => void stop(child), 30_000);
  let out = '';
  await new Promise<void>((resolve) =>
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      if (jsonLines(out).filter((l) => l.ready).length === 2) resolve();
    }),
  );
  child.kill('SIGTERM');
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(guard);
  assert.equal(code, 7);
  assert.deepEqual(
    jsonLines(out)
      .filter((l) => l.signal)
      .map((l) => l.rank)
      .sort(),
    [0, 1],
  );
});

test('launch --nproc 2 runs a real Gloo group through its own store', { skip: glooSkipReason() }, async () => {
  const run = await rxkeras(['launch', '--nproc', '2', '--timeout', '10000', WORKER, 'ops']);
  assert.equal(run.code, 0, run.stderr);
  const lines = jsonLines(run.stdout);
  assert.equal(lines.length, 2);
  for (const l of lines) assert.deepEqual(l.plain, [2, 2, 2]);
});
