import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../core/errors.js';
import { DISTRIBUTED_ENV } from './init-distributed.js';
import { formatStoreAddress, parseStoreAddress } from './store-address.js';

export interface LaunchOptions {
  /** The program each process runs (TypeScript runs through tsx), and its arguments. */
  script: string;
  args?: readonly string[];
  /** Processes on this host. */
  nproc: number;
  /** Where the members meet: redis://HOST:PORT or file:///PATH (one host: a fresh file store in a temp folder). */
  store?: string;
  /** Several hosts, as torchrun: `nnodes` launches of `nproc` each; this one is `nodeRank`. */
  nnodes?: number;
  nodeRank?: number;
  /** Or explicitly: the world size and the rank of this host's first process (hosts with different `nproc`). */
  worldSize?: number;
  rankOffset?: number;
  /** Names this run in the store; every host of a run gives the same one, a relaunch a new one (one host: random). */
  runId?: string;
  /** Address (or interface) the processes listen on; one host: 127.0.0.1. */
  host?: string;
  iface?: string;
  /** Bound on joining and on every collective operation, in ms. */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when the other processes are ended (default 5,000 ms). */
  graceMs?: number;
  env?: NodeJS.ProcessEnv;
}

function checkInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new InvalidArgumentError(name, `an integer >= ${min}`, value);
}

/** The exit status of a child as a shell reports it: its code, or 128 + the signal's number. */
function status(code: number | null, signal: NodeJS.Signals | null): number {
  return code ?? 128 + (signal ? constants.signals[signal] : 0);
}

/**
 * Starts `nproc` processes of `script` with the environment `initDistributed`
 * reads, as torchrun does. SIGINT and SIGTERM are forwarded to them. When one
 * fails, the others are ended (SIGTERM, then SIGKILL after `graceMs`) and the
 * promise resolves to the first failure's exit status; 0 when all succeed.
 */
export async function launch(options: LaunchOptions): Promise<number> {
  const { nproc } = options;
  checkInt('nproc', nproc, 1);
  const nnodes = options.nnodes ?? 1;
  checkInt('nnodes', nnodes, 1);
  const worldSize = options.worldSize ?? nnodes * nproc;
  const rankOffset = options.rankOffset ?? (options.nodeRank ?? 0) * nproc;
  checkInt('world size', worldSize, 1);
  checkInt('rank offset', rankOffset, 0);
  if (rankOffset + nproc > worldSize) {
    throw new InvalidArgumentError('rank offset + nproc', `at most the world size ${worldSize}`, rankOffset + nproc);
  }
  const oneHost = worldSize === nproc;
  if (!oneHost && options.store === undefined) throw new InvalidArgumentError('store', 'a store every host reaches, for a run over several hosts', undefined);
  if (!oneHost && options.runId === undefined) throw new InvalidArgumentError('run id', 'the same run id on every host of a run', undefined);

  const ownStore = options.store === undefined ? mkdtempSync(join(tmpdir(), 'rxkeras-store-')) : undefined;
  const store = ownStore ? { kind: 'file' as const, path: ownStore } : parseStoreAddress(options.store!);
  const env: NodeJS.ProcessEnv = {
    ...(options.env ?? process.env),
    [DISTRIBUTED_ENV.worldSize]: String(worldSize),
    [DISTRIBUTED_ENV.localWorldSize]: String(nproc),
    [DISTRIBUTED_ENV.store]: formatStoreAddress(store),
    [DISTRIBUTED_ENV.runId]: options.runId ?? randomUUID(),
  };
  if (options.iface !== undefined) env[DISTRIBUTED_ENV.iface] = options.iface;
  const host = options.host ?? (oneHost && options.iface === undefined ? '127.0.0.1' : undefined);
  if (host !== undefined) env[DISTRIBUTED_ENV.host] = host;
  if (options.timeoutMs !== undefined) env[DISTRIBUTED_ENV.timeoutMs] = String(options.timeoutMs);

  // Absolute, so the script need not sit in a folder that has tsx installed.
  const tsx = import.meta.resolve('tsx');
  const children: ChildProcess[] = [];
  let firstFailure: number | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const running = () => children.filter((c) => c.exitCode === null && c.signalCode === null);
  const endOthers = () => {
    for (const c of running()) c.kill('SIGTERM');
    killTimer ??= setTimeout(() => running().forEach((c) => c.kill('SIGKILL')), options.graceMs ?? 5000);
  };
  const forward = (signal: NodeJS.Signals) => running().forEach((c) => c.kill(signal));
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    const exits = Array.from({ length: nproc }, (_, local) => {
      const child = spawn(process.execPath, ['--import', tsx, options.script, ...(options.args ?? [])], {
        stdio: 'inherit',
        env: { ...env, [DISTRIBUTED_ENV.rank]: String(rankOffset + local), [DISTRIBUTED_ENV.localRank]: String(local) },
      });
      children.push(child);
      return new Promise<void>((resolve) => {
        let ended = false;
        const end = (s: number) => {
          if (ended) return;
          ended = true;
          if (s !== 0 && firstFailure === undefined) {
            firstFailure = s;
            endOthers();
          }
          resolve();
        };
        child.on('error', () => end(127)); // could not start
        child.on('exit', (code, signal) => end(status(code, signal)));
      });
    });
    await Promise.all(exits);
    return firstFailure ?? 0;
  } finally {
    clearTimeout(killTimer);
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    if (ownStore) rmSync(ownStore, { recursive: true, force: true });
  }
}
