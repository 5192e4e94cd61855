import * as fs from 'node:fs';
import * as os from 'node:os';
import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Device, type DeviceSpec } from './device.js';
import { UnknownDeviceError } from './errors.js';

/** What `listDevices()` reports for each device. */
export interface DeviceInfo {
  /** '/cpu:0' (the main thread), '/cpu:1' ..., '/gpu:0' ... */
  name: string;
  kind: 'cpu' | 'gpu';
  transport: 'main' | 'thread' | 'process';
  backend: string;
  threads: number;
}

export interface DevicesOptions {
  /** Worker devices /cpu:1 ... /cpu:N (default: one per core). */
  cpuWorkers?: number;
  /** wasm threads in each CPU worker (default: cores / cpuWorkers, at least 1, so that workers x threads <= cores). */
  threadsPerWorker?: number;
  /** How CPU workers run: worker threads (default; shared-memory all-reduce) or child processes. */
  transport?: 'thread' | 'process';
  /**
   * The CPU workers' backend (default: the main thread's when it is
   * compiled, wasm or cpu, else wasm). With 'compiled' each replica's
   * gradient step runs as one ONNX Runtime graph on its worker's threads.
   */
  backend?: 'compiled' | 'wasm' | 'cpu';
}

let options: DevicesOptions = {};
const started = new Map<string, Device>();

/**
 * Sets how many CPU worker devices there are and how they run. When that
 * changes, devices already started are ended first (their work is lost),
 * so call it before training.
 */
export async function configureDevices(next: DevicesOptions): Promise<void> {
  if (next.cpuWorkers !== undefined && (!Number.isInteger(next.cpuWorkers) || next.cpuWorkers < 0))
    throw new InvalidArgumentError('cpuWorkers', 'an integer >= 0', next.cpuWorkers);
  if (next.threadsPerWorker !== undefined && (!Number.isInteger(next.threadsPerWorker) || next.threadsPerWorker < 1))
    throw new InvalidArgumentError('threadsPerWorker', 'an integer >= 1', next.threadsPerWorker);
  if (JSON.stringify(next) === JSON.stringify(options)) return;
  await disposeDevices();
  options = { ...next };
}

/**
 * The devices rxkeras can place work on: '/cpu:0' (this thread), the CPU
 * worker devices, and one '/gpu:i' per GPU when tfjs-node-gpu is installed
 * and the NVIDIA driver lists GPUs. Nothing is started by listing.
 */
export function listDevices(): DeviceInfo[] {
  const backend = ops.activeBackend();
  const main: DeviceInfo = { name: '/cpu:0', kind: 'cpu', transport: 'main', backend: backend ?? 'none', threads: backend === 'wasm' ? ops.wasmThreads() : 1 };
  return [main, ...specs().map((s) => ({
    name: s.name,
    kind: s.name.startsWith('/gpu') ? ('gpu' as const) : ('cpu' as const),
    transport: s.transport,
    backend: s.backend,
    threads: s.threads,
  }))];
}

/** The worker device with this name (not '/cpu:0', which is this thread); started on its first call. */
export function getDevice(name: string): Device {
  const existing = started.get(name);
  if (existing) return existing;
  const spec = specs().find((s) => s.name === name);
  if (!spec) throw new UnknownDeviceError(name, listDevices().map((d) => d.name));
  const device = new Device(spec);
  started.set(name, device);
  return device;
}

/** The first `n` worker devices: GPUs first when there are any (Keras's `gpus=n`), else CPU workers. */
export function firstDevices(n: number): Device[] {
  const names = specs().map((s) => s.name);
  const gpus = names.filter((d) => d.startsWith('/gpu'));
  const pool = gpus.length > 0 ? gpus : names;
  if (!Number.isInteger(n) || n < 1 || n > pool.length)
    throw new InvalidArgumentError('gpus', `an integer in [1, ${pool.length}] (devices: ${pool.join(', ') || 'none'}; configureDevices({ cpuWorkers }) adds CPU workers)`, n);
  return pool.slice(0, n).map(getDevice);
}

/** Ends every started worker device. */
export async function disposeDevices(): Promise<void> {
  const devices = [...started.values()];
  started.clear();
  await Promise.all(devices.map((d) => d.dispose()));
}

function specs(): DeviceSpec[] {
  const cores = os.availableParallelism();
  const workers = options.cpuWorkers ?? cores;
  const threads = options.threadsPerWorker ?? Math.max(1, Math.floor(cores / Math.max(1, workers)));
  const main = ops.chosenBackend();
  const backend = options.backend ?? (main === 'cpu' || main === 'compiled' ? main : 'wasm');
  const cpu: DeviceSpec[] = Array.from({ length: workers }, (_, i) => ({
    name: `/cpu:${i + 1}`,
    transport: options.transport ?? 'thread',
    backend,
    threads,
  }));
  // tfjs-node does not run in worker threads (tfjs#2079): one child process per GPU.
  const gpu: DeviceSpec[] = Array.from({ length: gpuCount() }, (_, i) => ({
    name: `/gpu:${i}`,
    transport: 'process',
    backend: 'tensorflow-gpu',
    threads: 1,
    env: { CUDA_VISIBLE_DEVICES: String(i) },
  }));
  return [...cpu, ...gpu];
}

let gpus: number | undefined;

/** GPUs a tfjs-node-gpu child could use: the package must be installed and the NVIDIA driver must list devices. */
function gpuCount(): number {
  if (gpus !== undefined) return gpus;
  gpus = 0;
  try {
    import.meta.resolve('@tensorflow/tfjs-node-gpu');
    gpus = fs.readdirSync('/proc/driver/nvidia/gpus').length;
  } catch {
    // not installed, or no driver
  }
  return gpus;
}
