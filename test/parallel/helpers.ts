import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { loadGlooAddon } from '../../src/parallel/gloo-addon.js';

export const WORKER = new URL('./fixtures/collective-worker.ts', import.meta.url).pathname;

/**
 * Why the Gloo tests cannot run here, or undefined when they can. CI sets
 * RXKERAS_REQUIRE_GLOO=1 after installing Gloo: there a missing addon fails.
 */
export function glooSkipReason(): string | undefined {
  try {
    loadGlooAddon();
    return undefined;
  } catch (e) {
    if (process.env.RXKERAS_REQUIRE_GLOO === '1') throw e;
    return (e as Error).message;
  }
}

export function redisSkipReason(): string | undefined {
  return spawnSync('redis-server', ['--version']).status === 0 ? undefined : 'redis-server is not installed (apt-get install redis-server)';
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Redis {
  address: string;
  stop(): Promise<void>;
}

/** Starts a throw-away redis-server on a free loopback port; `stop` ends it by its handle. */
export async function startRedis(timeoutMs = 5000): Promise<Redis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${timeoutMs} ms`)), timeoutMs);
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk;
      if (/ready to accept connections/i.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${text}`));
    });
  });
  child.stdout!.resume();
  return {
    address: `redis://127.0.0.1:${port}`,
    stop: () => stop(child),
  };
}

/** Ends a child by its handle: SIGTERM, then SIGKILL after a second. */
export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 1000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface Member {
  child: ChildProcess;
  /** The JSON lines the member printed so far. */
  lines: Record<string, unknown>[];
  /** Resolves with the exit code (or the signal) once the member ends. */
  exited: Promise<number | string>;
}

/**
 * Spawns one group member running `script` (the collective worker fixture by
 * default) with `env` (RXKERAS_* variables); `wrapper` runs it, when given
 * (a command that execs its arguments, so the handle stays the member's).
 */
export function spawnMember(args: readonly string[], env: NodeJS.ProcessEnv, onLine?: (line: Record<string, unknown>) => void, script = WORKER, wrapper: string[] = []): Member {
  const command = [...wrapper, process.execPath, '--import', 'tsx', script, ...args];
  const child = spawn(command[0], command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const part of parts) {
      const line = JSON.parse(part) as Record<string, unknown>;
      lines.push(line);
      onLine?.(line);
    }
  });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal!)));
  return { child, lines, exited };
}

/** Spawns `size` members of one run and waits for all of them, ending any still running after `timeoutMs`. */
export async function runGroup(size: number, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000, script = WORKER): Promise<Member[]> {
  const members = Array.from({ length: size }, (_, rank) =>
    spawnMember(args, { RXKERAS_WORLD_SIZE: String(size), RXKERAS_RANK: String(rank), RXKERAS_HOST: '127.0.0.1', ...env }, undefined, script),
  );
  const timer = setTimeout(() => members.forEach((m) => void stop(m.child)), timeoutMs);
  await Promise.all(members.map((m) => m.exited));
  clearTimeout(timer);
  return members;
}

/** `actual` within 1e-5 of `expected`, relative (absolute below 1e-3). */
export function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-5 * Math.max(1e-3, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

/** What a member of a distributed training test writes: its final weights and its History. */
export interface TrainedRun {
  weights: Record<string, number[]>;
  history: Record<string, number[]>;
}

/**
 * Every member ended with the first one's weights and History, bit for bit,
 * and those are one process's (`expected`): each weight within 1e-5 of its
 * largest value, each value `expected` logged within 1e-5 relative.
 */
export function assertTrainedAlike(results: readonly TrainedRun[], expected: TrainedRun): void {
  for (const r of results.slice(1)) {
    assert.deepEqual(r.weights, results[0].weights);
    assert.deepEqual(r.history, results[0].history);
  }
  for (const [path, w] of Object.entries(expected.weights)) {
    const scale = Math.max(...w.map(Math.abs));
    const worst = Math.max(...w.map((e, i) => Math.abs(results[0].weights[path][i] - e)));
    assert.ok(worst <= 1e-5 * scale, `${path}: max difference ${worst} against max |w| ${scale}`);
  }
  for (const [name, values] of Object.entries(expected.history)) values.forEach((v, e) => assertClose(results[0].history[name][e], v, `${name} of epoch ${e}`));
}
