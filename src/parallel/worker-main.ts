/**
 * The program a device runs, in a worker thread or a child process: it
 * starts the configured backend, says it is ready, then runs the functions the main thread calls, one message at a
 * time, and answers each with its result or its error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { chooseBackend } from '../ops/tfjs/backend.js';
import type { Collective } from './collective.js';
import type { DeviceContext, DeviceFunction, GroupDescriptor } from './device-context.js';
import { serializeError, type HostMessage, type WorkerConfig, type WorkerMessage } from './protocol.js';
import { RelayCollective } from './relay-collective.js';
import { SharedMemoryCollective } from './shared-memory-collective.js';

interface Host {
  post(message: WorkerMessage, transfer?: ArrayBuffer[]): void;
  onMessage(listener: (message: HostMessage) => void): void;
}

function connect(): { host: Host; config: WorkerConfig } {
  if (parentPort) {
    const port = parentPort;
    return {
      host: { post: (m, transfer) => port.postMessage(m, transfer), onMessage: (f) => void port.on('message', f) },
      config: (workerData as { config: WorkerConfig }).config,
    };
  }
  if (!process.send) throw new Error('worker-main runs as a worker thread or a forked child process, not on its own');
  const send = process.send.bind(process);
  // The parent's death must end this process too: a disconnected channel means it is gone.
  process.on('disconnect', () => process.exit(0));
  return {
    host: { post: (m) => void send(m), onMessage: (f) => void process.on('message', (m) => f(m as HostMessage)) },
    config: JSON.parse(process.argv[2]) as WorkerConfig,
  };
}

const { host, config } = connect();
const relays = new Map<number, RelayCollective>();

const context: DeviceContext = {
  device: config.device,
  join(group: GroupDescriptor, rank: number): Collective {
    if (group.kind === 'shared') return new SharedMemoryCollective(group.group, rank, { timeoutMs: group.timeoutMs });
    const c = new RelayCollective(group.id, rank, group.size, (m) => host.post(m), group.timeoutMs);
    relays.set(group.id, c);
    return c;
  },
};

async function start(): Promise<string> {
  process.env.RXKERAS_WASM_THREADS = String(config.threads);
  process.env.RXKERAS_COMPILED_THREADS = String(config.threads);
  return chooseBackend(config.backend);
}

const modules = new Map<string, Promise<Record<string, unknown>>>();

async function call(module: string, fn: string, args: unknown): Promise<unknown> {
  if (!modules.has(module)) modules.set(module, import(module) as Promise<Record<string, unknown>>);
  const f = (await modules.get(module)!)[fn];
  if (typeof f !== 'function') throw new TypeError(`${module} exports no function '${fn}'`);
  return (f as DeviceFunction<unknown>)(args, context);
}

function reply(id: number, value: unknown): void {
  try {
    host.post({ kind: 'reply', id, value });
  } catch (error) {
    host.post({ kind: 'reply', id, error: serializeError(error) }); // a result that cannot be cloned
  }
}

const started = start().then(
  (backend) => host.post({ kind: 'ready', backend }),
  (error: unknown) => host.post({ kind: 'ready', error: serializeError(error) }),
);

// Calls run one after another, in the order they were sent; relayed collective answers bypass the queue.
let queue: Promise<unknown> = started;
host.onMessage((m) => {
  if (m.kind === 'relay') return relays.get(m.group)?.receive(m);
  queue = queue.then(() =>
    call(m.module, m.fn, m.args).then(
      (value) => reply(m.id, value),
      (error: unknown) => host.post({ kind: 'reply', id: m.id, error: serializeError(error) }),
    ),
  );
});
