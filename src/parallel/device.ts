import { RxKerasError } from '../core/errors.js';
import { processChannel, threadChannel, type Channel } from './channel.js';
import { DeviceError } from './errors.js';
import type { RelayMessage, SerializedError, WorkerConfig, WorkerMessage } from './protocol.js';

/** Where and how a device's worker runs. */
export interface DeviceSpec {
  /** '/cpu:1', '/gpu:0', ... */
  name: string;
  transport: 'thread' | 'process';
  backend: WorkerConfig['backend'];
  /** wasm threads inside the worker. */
  threads: number;
  /** Extra environment of a child process (CUDA_VISIBLE_DEVICES for a GPU). */
  env?: Record<string, string>;
}

export interface CallOptions {
  /** Buffers moved to the worker instead of copied (worker threads only; they become unusable here). */
  transfer?: ArrayBuffer[];
  /** Bound on the call, in ms; past it the worker is ended and the call rejects. Default: none beyond the worker's own. */
  timeoutMs?: number;
  /** The training step the call belongs to, named in its error. */
  step?: number;
}

const READY_TIMEOUT_MS = 60_000;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  step: number | undefined;
  timer?: NodeJS.Timeout;
}

/** One worker's life: its channel, its pending calls, and how it is being ended. */
interface Run {
  ready: Promise<Channel>;
  channel?: Channel;
  pending: Map<number, Pending>;
  /** While a worker is being ended, nothing may unref it: its exit must keep the process waiting. */
  ending: boolean;
  disposed: boolean;
}

/**
 * A device: a worker with its own backend, started on first use and reused
 * until `dispose()`. `call` runs a function exported by a module inside the
 * worker and resolves with its result; every failure (the function threw,
 * memory ran out, the worker died, a bound passed) rejects with a
 * DeviceError naming the device and the step. An idle device does not keep
 * the process alive. A worker that is ended (disposed, timed out, died) is
 * replaced on the next call.
 */
export class Device {
  private run: Run | undefined;
  private nextId = 0;
  private readonly exitListeners = new Set<(detail: string) => void>();
  private readonly relayListeners = new Set<(m: RelayMessage) => void>();

  constructor(readonly spec: DeviceSpec) {}

  get name(): string {
    return this.spec.name;
  }

  /** Whether the worker is running. */
  get started(): boolean {
    return this.run?.channel !== undefined;
  }

  /** The child process's id, for a started device on the process transport. */
  get pid(): number | undefined {
    return this.run?.channel?.pid;
  }

  /** Starts the worker (once) and resolves when its backend is up. */
  async start(): Promise<void> {
    await this.connect().ready;
  }

  /** Runs `fn(args, context)`, exported by `module` (a file URL), in the worker. */
  async call<R>(module: URL | string, fn: string, args?: unknown, options: CallOptions = {}): Promise<R> {
    const run = this.connect(options.step);
    const channel = await run.ready;
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject, step: options.step };
      if (options.timeoutMs !== undefined)
        p.timer = setTimeout(() => {
          this.settle(run, id, new DeviceError(this.name, options.step, 'timeout', `no answer from ${fn} within ${options.timeoutMs} ms; the worker was ended`));
          void this.end(run, false);
        }, options.timeoutMs);
      run.pending.set(id, p);
      channel.ref();
      channel.post({ kind: 'call', id, module: String(module), fn, args }, options.transfer);
    });
  }

  /**
   * Posts a call now, synchronously, and ignores its answer: for a caller
   * that then waits on shared memory the function writes. The device must
   * be started.
   */
  notify(module: URL | string, fn: string, args?: unknown): void {
    const channel = this.run?.channel;
    if (!channel) throw new DeviceError(this.name, undefined, 'died', 'the device is not running');
    channel.post({ kind: 'call', id: this.nextId++, module: String(module), fn, args });
  }

  /** Calls `listener` when the worker goes away while running (not after `dispose()`). Returns the unsubscribe. */
  onExit(listener: (detail: string) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Relayed collective messages from the worker (see RelayHub). Returns the unsubscribe. */
  onRelay(listener: (m: RelayMessage) => void): () => void {
    this.relayListeners.add(listener);
    return () => this.relayListeners.delete(listener);
  }

  postRelay(m: RelayMessage): void {
    this.run?.channel?.post(m);
  }

  /** Ends the worker; pending calls reject with reason 'disposed'. A later call starts a new worker. */
  async dispose(): Promise<void> {
    if (this.run) await this.end(this.run, true);
  }

  /** Ends one worker's run; the device forgets it at once, so the next call starts another. */
  private async end(run: Run, disposed: boolean): Promise<void> {
    if (this.run === run) this.run = undefined;
    run.ending = true;
    run.disposed ||= disposed;
    const channel = await run.ready.catch(() => undefined);
    await channel?.terminate();
  }

  private connect(step?: number): Run {
    this.run ??= this.open(step);
    return this.run;
  }

  private open(step: number | undefined): Run {
    const config: WorkerConfig = { device: this.name, backend: this.spec.backend, threads: this.spec.threads };
    const channel = this.spec.transport === 'thread' ? threadChannel(config) : processChannel(config, this.spec.env);
    const run = { pending: new Map<number, Pending>(), ending: false, disposed: false } as Run;
    run.ready = new Promise<Channel>((resolve, reject) => {
      let isReady = false;
      const timer = setTimeout(() => {
        reject(new DeviceError(this.name, step, 'timeout', `its worker did not start within ${READY_TIMEOUT_MS} ms`));
        void this.end(run, false);
      }, READY_TIMEOUT_MS);
      channel.onMessage((m: WorkerMessage) => {
        if (m.kind === 'relay') for (const f of this.relayListeners) f(m);
        else if (m.kind === 'ready') {
          clearTimeout(timer);
          if ('error' in m) {
            reject(this.remoteError(m.error, step, 'its backend failed to start: '));
            void this.end(run, false);
            return;
          }
          isReady = true;
          run.channel = channel;
          channel.unref();
          resolve(channel);
        } else if ('error' in m) this.settle(run, m.id, this.remoteError(m.error, run.pending.get(m.id)?.step));
        else this.settle(run, m.id, undefined, m.value);
      });
      channel.onExit((detail) => {
        clearTimeout(timer);
        if (this.run === run) this.run = undefined;
        run.channel = undefined;
        const reason = run.disposed ? 'disposed' : /out of memory/i.test(detail) ? 'out-of-memory' : 'died';
        const text = run.disposed ? 'the device was disposed' : `its worker died (${detail})`;
        if (!isReady) reject(new DeviceError(this.name, step, reason, text));
        for (const [id, p] of run.pending) this.settle(run, id, new DeviceError(this.name, p.step, reason, text));
        if (!run.disposed) for (const f of this.exitListeners) f(detail);
      });
    });
    return run;
  }

  private settle(run: Run, id: number, error: Error | undefined, value?: unknown): void {
    const p = run.pending.get(id);
    if (!p) return;
    run.pending.delete(id);
    clearTimeout(p.timer);
    if (run.pending.size === 0 && !run.ending) run.channel?.unref();
    if (error) p.reject(error);
    else p.resolve(value);
  }

  private remoteError(e: SerializedError, step: number | undefined, prefix = ''): DeviceError {
    // A call of several steps says how many of them went before the one that failed.
    const before = e.fields?.stepsBefore;
    const at = step !== undefined && typeof before === 'number' ? step + before : step;
    const error = new DeviceError(this.name, at, e.outOfMemory ? 'out-of-memory' : 'threw', `${prefix}${e.name}: ${e.message}`);
    const cause = new RemoteError(e);
    error.cause = cause;
    return error;
  }
}

/** The error a worker threw, rebuilt on this side with its class name, stack and fields. */
export class RemoteError extends RxKerasError {
  readonly remoteName: string;
  readonly fields: Record<string, unknown>;

  constructor(e: SerializedError) {
    super(e.message);
    this.remoteName = e.name;
    this.fields = e.fields ?? {};
    if (e.stack) this.stack = e.stack;
  }
}
