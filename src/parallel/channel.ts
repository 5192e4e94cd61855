import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HostMessage, WorkerConfig, WorkerMessage } from './protocol.js';

/**
 * The main thread's end of one device's worker: a worker thread or a child
 * process, behind the same few methods. The worker runs worker-main.ts.
 */
export interface Channel {
  readonly transport: 'thread' | 'process';
  /** The child process's id (process transport only). */
  readonly pid: number | undefined;
  post(message: HostMessage, transfer?: ArrayBuffer[]): void;
  onMessage(listener: (message: WorkerMessage) => void): void;
  /** Called once, when the worker has gone (exited, crashed, was killed); `detail` says how. */
  onExit(listener: (detail: string) => void): void;
  /** Keeps the process alive while work is pending; an idle worker must not. */
  ref(): void;
  unref(): void;
  /** Ends the worker; resolves once it is gone. */
  terminate(): Promise<void>;
}

/** The worker program, next to this file: TypeScript when running from source (tsx), JavaScript from dist/. */
const fromSource = import.meta.url.endsWith('.ts');
const entry = new URL(fromSource ? './worker-main.ts' : './worker-main.js', import.meta.url);

/** Whether workers need tsx: the entry is TypeScript, or the parent runs TypeScript (setup modules may be .ts). */
const needsTsx = fromSource || process.execArgv.some((a) => a.includes('tsx'));

/**
 * Worker threads do not inherit the parent's module hooks (Node 20), so the
 * thread starts from a few lines of CommonJS that register tsx when needed
 * and then import the entry.
 */
const BOOTSTRAP = `const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((e) => { setImmediate(() => { throw e; }); });`;

export function threadChannel(config: WorkerConfig): Channel {
  const worker = new Worker(BOOTSTRAP, {
    eval: true,
    workerData: { entry: entry.href, tsx: needsTsx ? import.meta.resolve('tsx/esm/api') : undefined, config },
    env: { ...process.env, RXKERAS_QUIET: '1' },
  });
  let crash: Error | undefined;
  worker.on('error', (e) => (crash = e));
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  return {
    transport: 'thread',
    pid: undefined,
    post: (m, transfer) => worker.postMessage(m, transfer),
    onMessage: (f) => void worker.on('message', f),
    onExit: (f) => void exited.then((code) => f(crash ? `its thread crashed: ${crash.message}` : `its thread exited with code ${code}`)),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    terminate: async () => {
      worker.ref();
      await worker.terminate();
      await exited;
    },
  };
}

export function processChannel(config: WorkerConfig, env: Record<string, string> = {}): Channel {
  const child: ChildProcess = fork(fileURLToPath(entry), [JSON.stringify(config)], {
    execArgv: needsTsx ? ['--import', import.meta.resolve('tsx')] : [],
    serialization: 'advanced',
    env: { ...process.env, RXKERAS_QUIET: '1', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `its process was killed by ${signal}` : `its process exited with code ${code}`));
    child.once('error', (e) => resolve(`its process failed: ${e.message}`));
  });
  return {
    transport: 'process',
    pid: child.pid,
    post: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (f) => void child.on('message', (m) => f(m as WorkerMessage)),
    onExit: (f) => void exited.then(f),
    ref: () => {
      child.ref();
      child.channel?.ref();
    },
    unref: () => {
      child.unref();
      child.channel?.unref();
    },
    terminate: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.ref(); // an unref'd child's exit would not keep this process waiting for it
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}
