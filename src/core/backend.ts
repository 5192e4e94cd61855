import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from './errors.js';
import { registerMissingGradients } from './gradients.js';

/** Backends in order of preference; the first that loads wins. */
export const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Environment variable that forces one backend. */
export const BACKEND_ENV = 'RXKERAS_BACKEND';

let chosen: Promise<BackendName> | undefined;

/**
 * Picks and initialises the best backend that loads, once per process:
 * tfjs-node-gpu (when it sees a GPU), tfjs-node, wasm, cpu. `RXKERAS_BACKEND`
 * forces one. The choice is reported once on stderr unless `quiet`.
 */
export function initBackend(options: { quiet?: boolean } = {}): Promise<BackendName> {
  chosen ??= choose(process.env[BACKEND_ENV]).then((name) => {
    if (!options.quiet && !process.env.RXKERAS_QUIET) process.stderr.write(`rxkeras: backend ${describeBackend(name)}\n`);
    return name;
  });
  return chosen;
}

async function choose(forced: string | undefined): Promise<BackendName> {
  if (forced !== undefined && forced !== '') {
    if (!(BACKENDS as readonly string[]).includes(forced))
      throw new InvalidArgumentError(BACKEND_ENV, `one of ${BACKENDS.join(', ')}`, forced);
    if (!(await load(forced as BackendName))) throw new Error(`${BACKEND_ENV}=${forced}: backend '${forced}' failed to load`);
    return forced as BackendName;
  }
  for (const name of BACKENDS) if (await load(name)) return name;
  throw new Error('no TensorFlow.js backend could be initialised');
}

async function load(name: BackendName): Promise<boolean> {
  try {
    switch (name) {
      case 'tensorflow-gpu':
        await import('@tensorflow/tfjs-node-gpu' as string);
        if (!(await tf.setBackend('tensorflow'))) return false;
        return hasGpu();
      case 'tensorflow':
        await import('@tensorflow/tfjs-node' as string);
        return await tf.setBackend('tensorflow');
      case 'wasm': {
        const { setupWasm } = await import('./wasm-setup.js');
        await setupWasm();
        if (!(await tf.setBackend('wasm'))) return false;
        break;
      }
      case 'cpu':
        await import('@tensorflow/tfjs-backend-cpu');
        if (!(await tf.setBackend('cpu'))) return false;
        break;
    }
    registerMissingGradients(name);
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

function describeBackend(name: BackendName): string {
  if (name === 'wasm') {
    const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? wasmThreads() : 1;
    return `wasm (${threads} thread${threads === 1 ? '' : 's'})`;
  }
  return name;
}

function wasmThreads(): number {
  const b = tf.backend() as unknown as { wasm?: { getThreadsCount?(): number } };
  return b.wasm?.getThreadsCount?.() ?? 1;
}
