import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { backendReady } from '../helpers/backend.js';
import { configureDevices, disposeDevices, getDevice, listDevices } from '../../src/parallel/devices.js';
import { DeviceGroup } from '../../src/parallel/device-group.js';
import { DeviceError, UnknownDeviceError } from '../../src/parallel/errors.js';
import type { Device, RemoteError } from '../../src/parallel/device.js';

await backendReady;
const worker = new URL('./fixtures/device-functions.ts', import.meta.url);
after(() => disposeDevices());

/** A deterministic buffer per rank, with values of mixed sign and magnitude. */
function bufferFor(rank: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + rank) * 10 ** ((i + rank) % 5 - 2));
}

async function runGroup(devices: Device[], n: number, ops: string[], capacity: number): Promise<Float32Array[][]> {
  const group = new DeviceGroup(devices, { capacity, timeoutMs: 10_000 });
  try {
    return await Promise.all(devices.map((d, rank) => d.call<Float32Array[]>(worker, 'run', { group: group.descriptor, rank, buffer: bufferFor(rank, n), ops })));
  } finally {
    group.close();
  }
}

function checkCollectives(results: Float32Array[][], n: number): void {
  const size = results.length;
  const sum = Float64Array.from({ length: n }, (_, i) => results.reduce((s, _r, rank) => s + bufferFor(rank, n)[i], 0));
  results.forEach((r, rank) => {
    // allReduce: every member has the sum, bit for bit the same.
    for (let i = 0; i < n; i++) assert.ok(Math.abs(r[0][i] - sum[i]) <= 1e-6 * (1 + Math.abs(sum[i])) * size, `rank ${rank} element ${i}: ${r[0][i]} vs ${sum[i]}`);
    assert.deepEqual(r[0], results[0][0]);
    assert.deepEqual(r[1], bufferFor(1, n), 'broadcast from root 1');
    assert.deepEqual(r[2], bufferFor(rank, n), 'barrier leaves the buffer alone');
    if (r[3]) assert.deepEqual(r[3], results[0][0], 'in place in the shared slot: the same sum');
  });
}

test('listDevices: /cpu:0 is this thread, then one worker device per core unless configured; unknown names are refused', async () => {
  await configureDevices({ cpuWorkers: 3, threadsPerWorker: 1 });
  const devices = listDevices();
  assert.deepEqual(devices.map((d) => d.name), ['/cpu:0', '/cpu:1', '/cpu:2', '/cpu:3']);
  assert.equal(devices[0].transport, 'main');
  assert.ok(devices.slice(1).every((d) => d.transport === 'thread' && d.threads === 1 && d.backend === 'wasm'));
  assert.throws(() => getDevice('/cpu:9'), UnknownDeviceError);
  assert.throws(() => getDevice('/gpu:0'), /unknown device '\/gpu:0'. Known: \/cpu:0, \/cpu:1/);
});

test('shared memory: allReduce, broadcast, barrier and in-place allReduce over 3 worker threads, chunked and unchunked', async () => {
  await configureDevices({ cpuWorkers: 3, threadsPerWorker: 1 });
  const devices = [1, 2, 3].map((i) => getDevice(`/cpu:${i}`));
  const ops = ['allReduce', 'broadcast1', 'barrier', 'slot'];
  checkCollectives(await runGroup(devices, 1001, ops, 4096), 1001);
  checkCollectives(await runGroup(devices, 1001, ops.slice(0, 3), 100), 1001); // 11 chunks, the last partial
  const probe = await devices[0].call<{ backend: string; sum: number }>(worker, 'probe');
  assert.deepEqual([probe.backend, probe.sum], ['wasm', 6.5]);
});

test('a member that dies makes the others reject with a LostRankError naming it, within seconds', async () => {
  await configureDevices({ cpuWorkers: 3, threadsPerWorker: 1 });
  const devices = [1, 2, 3].map((i) => getDevice(`/cpu:${i}`));
  const group = new DeviceGroup(devices, { capacity: 64, timeoutMs: 60_000 });
  const started = Date.now();
  const calls = devices.map((d, rank) =>
    rank === 2 ? d.call(worker, 'die') : d.call(worker, 'run', { group: group.descriptor, rank, buffer: bufferFor(rank, 10), ops: ['allReduce'] }),
  );
  const results = await Promise.allSettled(calls);
  group.close();
  assert.ok(Date.now() - started < 10_000);
  const died = results[2];
  assert.ok(died.status === 'rejected' && died.reason instanceof DeviceError && died.reason.reason === 'died' && died.reason.device === '/cpu:3', String((died as PromiseRejectedResult).reason));
  for (const r of results.slice(0, 2)) {
    assert.equal(r.status, 'rejected');
    const e = (r as PromiseRejectedResult).reason as DeviceError;
    assert.ok(e instanceof DeviceError && e.reason === 'threw', String(e));
    assert.match(e.message, /LostRankError: rank [01], all-reduce: member 2 was lost/);
    assert.deepEqual((e.cause as RemoteError).fields.lostRanks, [2]);
  }
  // The dead device starts again on its next call.
  assert.equal((await devices[2].call<{ sum: number }>(worker, 'probe')).sum, 6.5);
});

test('errors thrown by a device arrive typed, with the device, the step and the remote stack', async () => {
  await configureDevices({ cpuWorkers: 1 });
  const d = getDevice('/cpu:1');
  await assert.rejects(d.call(worker, 'fail', { message: 'bad shard' }, { step: 7 }), (e: unknown) => {
    assert.ok(e instanceof DeviceError);
    assert.equal(e.device, '/cpu:1');
    assert.equal(e.step, 7);
    assert.equal(e.reason, 'threw');
    assert.match(e.message, /device \/cpu:1 at step 7: RangeError: bad shard/);
    assert.match(String((e.cause as Error).stack), /device-functions/);
    return true;
  });
  await assert.rejects(d.call(worker, 'sleep', { ms: 5000 }, { timeoutMs: 200 }), (e: unknown) => e instanceof DeviceError && e.reason === 'timeout');
  // The timed-out worker was ended: this call starts another, which dispose() ends.
  const pending = assert.rejects(d.call(worker, 'sleep', { ms: 5000 }), (e: unknown) => e instanceof DeviceError && e.reason === 'disposed');
  await d.start();
  await d.dispose();
  await pending;
});

test('child processes: the same calls and collectives, relayed through this process (wasm backend)', async () => {
  await configureDevices({ cpuWorkers: 2, threadsPerWorker: 1, transport: 'process' });
  const devices = [getDevice('/cpu:1'), getDevice('/cpu:2')];
  const probe = await devices[0].call<{ backend: string; sum: number; pid: number }>(worker, 'probe');
  assert.deepEqual([probe.backend, probe.sum], ['wasm', 6.5]);
  assert.notEqual(probe.pid, process.pid);
  assert.equal(devices[0].pid, probe.pid);
  const results = await runGroup(devices, 333, ['allReduce', 'broadcast1', 'barrier'], 64);
  const sum = bufferFor(0, 333).map((v, i) => v + bufferFor(1, 333)[i]);
  results.forEach((r) => {
    assert.deepEqual(r[0], sum);
    assert.deepEqual(r[1], bufferFor(1, 333));
  });
  // A killed process fails the others' relayed operations.
  const group = new DeviceGroup(devices, { capacity: 64, timeoutMs: 60_000 });
  const waiting = devices[0].call(worker, 'run', { group: group.descriptor, rank: 0, buffer: bufferFor(0, 10), ops: ['allReduce'] });
  await devices[1].start();
  process.kill(devices[1].pid!, 'SIGKILL');
  await assert.rejects(waiting, (e: unknown) => e instanceof DeviceError && /member 1 \(\/cpu:2\) was lost: its process was killed by SIGKILL/.test(e.message));
  group.close();
  await configureDevices({});
});

test('a program that used devices exits on its own', () => {
  const program = new URL('./fixtures/uses-devices.ts', import.meta.url).pathname;
  const r = spawnSync(process.execPath, ['--import', 'tsx', program], { timeout: 30_000, encoding: 'utf8' });
  assert.equal(r.signal, null, `did not exit within 30 s: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /thread 6.5\nprocess 6.5/);
});
