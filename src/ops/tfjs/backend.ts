import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '../../core/errors.js';
import { registerCoreGradients } from './core-gradients.js';
import { registerGradientFixes } from './gradients.js';
import { registerWasmKernels } from './kernels/index.js';
import { compiledBackend, enableCompiledSteps, ortBinding, ortVersion } from '../compiled/index.js';

/**
 * Backends in order of preference; the first that loads wins. 'compiled'
 * runs each training, evaluation and prediction step as one ONNX Runtime
 * graph, with the next backend that loads for everything else (eager ops).
 */
export const BACKENDS = ['compiled', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
type EagerName = Exclude<BackendName, 'compiled'>;

/** Environment variable that forces one backend. */
export const BACKEND_ENV = 'RXKERAS_BACKEND';

let chosen: Promise<BackendName> | undefined;
/** Why the compiled backend did not load, when it did not (reported with the choice). */
let compiledFailure: string | undefined;
/** The chosen backend, and the eager one under 'compiled'. */
let active: BackendName | undefined;
let eager: EagerName | undefined;

/**
 * Picks and initialises the best backend that loads, once per process:
 * compiled steps on ONNX Runtime (over the next one that loads), tfjs-node-gpu
 * (when it sees a GPU), tfjs-node, wasm (multi-threaded where it can be),
 * cpu. `backend`, else `RXKERAS_BACKEND`, forces one; an unknown name rejects
 * with InvalidArgumentError. The choice is reported once on stderr unless
 * `quiet` (or `RXKERAS_QUIET` is set), e.g. `rxkeras: backend compiled (ONNX
 * Runtime 1.30.0 through rxkeras's addon, 2 threads; eager ops on wasm (2
 * threads))`, with the reason when ONNX Runtime did not load, or when its
 * graphs run through onnxruntime-node's binding instead of rxkeras's addon.
 */
export function initBackend(options: { quiet?: boolean; backend?: string } = {}): Promise<BackendName> {
  chosen ??= chooseBackend(options.backend ?? process.env[BACKEND_ENV]).then((name) => {
    const why = name !== 'compiled' && compiledFailure ? ` (compiled: ${compiledFailure})` : '';
    if (!options.quiet && !process.env.RXKERAS_QUIET) process.stderr.write(`rxkeras: backend ${describeBackend(name)}${why}\n`);
    return name;
  });
  return chosen;
}

/**
 * The selection itself, without the once-per-process cache of
 * {@link initBackend}: the forced backend when `forced` is a non-empty name,
 * else the first of {@link BACKENDS} that loads. It makes the chosen backend
 * the active one.
 */
export async function chooseBackend(forced?: string): Promise<BackendName> {
  await silenceCpuBanner();
  await registerCoreGradients();
  if (forced !== undefined && forced !== '') {
    if (!(BACKENDS as readonly string[]).includes(forced))
      throw new InvalidArgumentError(BACKEND_ENV, `one of ${BACKENDS.join(', ')}`, forced);
    if (!(await load(forced as BackendName)))
      throw new Error(`${BACKEND_ENV}=${forced}: backend '${forced}' failed to load${forced === 'compiled' ? ` (${compiledFailure})` : ''}`);
    return (active = forced as BackendName);
  }
  for (const name of BACKENDS) if (await load(name)) return (active = name);
  throw new Error('no TensorFlow.js backend could be initialised');
}

async function load(name: BackendName): Promise<boolean> {
  enableCompiledSteps(false);
  if (name === 'compiled') {
    try {
      compiledBackend();
    } catch (error) {
      compiledFailure = `ONNX Runtime did not load: ${(error as Error).message.split('\n')[0]}`;
      return false;
    }
    for (const e of BACKENDS)
      if (e !== 'compiled' && (await load(e))) {
        eager = e;
        enableCompiledSteps(true);
        return true;
      }
    return false;
  }
  try {
    switch (name) {
      case 'tensorflow-gpu':
        await import('@tensorflow/tfjs-node-gpu' as string);
        if (!(await tf.setBackend('tensorflow'))) return false;
        if (!hasGpu()) return false;
        break;
      case 'tensorflow':
        await import('@tensorflow/tfjs-node' as string);
        if (!(await tf.setBackend('tensorflow'))) return false;
        break;
      case 'wasm': {
        const { initWasmBackend } = await import('./wasm-setup.js');
        if ((await initWasmBackend()) === undefined) return false;
        break;
      }
      case 'cpu':
        if (!(await tf.setBackend('cpu'))) return false;
        break;
    }
    // The kernels and gradients a backend lacks, so that every layer trains on it (over tfjs-core's table).
    registerGradientFixes();
    if (name === 'wasm') registerWasmKernels();
    return true;
  } catch {
    return false;
  }
}

function hasGpu(): boolean {
  // tfjs-node-gpu loads on machines without CUDA devices too; only a GPU makes it worth choosing.
  const devices = (tf.backend() as unknown as { binding?: { getGpuCount?(): number } }).binding?.getGpuCount?.();
  return typeof devices === 'number' ? devices > 0 : true;
}

/** The backend chooseBackend chose ('compiled' included; activeBackend then names its eager one); undefined before it ran. */
export function chosenBackend(): BackendName | undefined {
  return active;
}

/** The active backend's name, or undefined while none has started (reading it starts none). */
export function activeBackend(): string | undefined {
  return (tf.engine() as unknown as { backendName?: string | null }).backendName ?? undefined;
}

/** A one-line description of the active backend, e.g. `wasm (2 threads)`. */
export function describeBackend(name: BackendName = active ?? (tf.getBackend() as BackendName)): string {
  if (name === 'compiled') return `compiled (ONNX Runtime ${ortVersion()} through ${ortBinding()}, ${compiledBackend().threads} threads; eager ops on ${describeBackend(eager)})`;
  if (name === 'wasm') {
    const threads = wasmThreads();
    return `wasm (${threads} thread${threads === 1 ? '' : 's'})`;
  }
  return name;
}

/** Threads the wasm backend computes on (1 for other backends). */
export function wasmThreads(): number {
  const b = tf.engine().registry.wasm as unknown as { wasm?: { tfjs?: { getThreadsCount?(): number } } } | undefined;
  return b?.wasm?.tfjs?.getThreadsCount?.() ?? 1;
}

/**
 * The cpu backend prints a "Hi, looks like you are running TensorFlow.js in
 * Node.js..." banner on its first tensor. tfjs has no flag for that one
 * message (only `PROD`, which silences every tfjs warning), so the cpu
 * backend's factory is wrapped to create the backend with its first-use
 * flag already cleared. Done only while no cpu backend instance exists.
 */
async function silenceCpuBanner(): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  const engine = tf.engine();
  if (engine.registry.cpu !== undefined) return;
  const stock = tf.findBackendFactory('cpu');
  if (!stock || (stock as { rxkerasQuiet?: boolean }).rxkerasQuiet) return;
  const quiet = Object.assign(
    () => {
      const backend = stock();
      if (!(backend instanceof Promise)) (backend as unknown as { firstUse?: boolean }).firstUse = false;
      return backend;
    },
    { rxkerasQuiet: true },
  );
  tf.removeBackend('cpu');
  tf.registerBackend('cpu', quiet, 1);
}
