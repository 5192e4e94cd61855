import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { nativeDir } from '../ops/native-dir.js';
import { GlooUnavailableError } from './collective-errors.js';

/** Options of the native group (validated by the caller). */
export interface NativeGroupOptions {
  rank: number;
  size: number;
  storeKind: 'redis' | 'file';
  storeHost: string;
  storePort: number;
  storePath: string;
  prefix: string;
  hostname: string;
  iface: string;
  timeoutMs: number;
  heartbeatMs: number;
  algorithm: 'ring' | 'bcube';
}

/** The addon's `Group` (native/gloo/src/addon.cc). Rejections carry `code` and `ranks`. */
export interface NativeGroup {
  connect(): Promise<void>;
  allReduce(buffer: Float32Array): Promise<void>;
  broadcast(buffer: Float32Array, root: number): Promise<void>;
  barrier(): Promise<void>;
  close(): Promise<void>;
}

export interface GlooAddon {
  Group: new (options: NativeGroupOptions) => NativeGroup;
  /** The pages under `view` (whole pages) now show `path` from byte `offset` on, shared with every process that maps it; `create` makes the file (native/gloo/src/host_memory.cc). */
  mapShared(view: Uint8Array, path: string, offset: number, create: boolean): void;
  /** Resolves once `view[index]` is not `expected` and a wake came (0), after `timeoutMs` (1), or at once when it differed already (2). */
  futexWait(view: Int32Array, index: number, expected: number, timeoutMs: number): Promise<number>;
  /** As futexWait, blocking the calling thread (for waits of a millisecond or two). */
  futexWaitSync(view: Int32Array, index: number, expected: number, timeoutMs: number): number;
  /** Wakes every waiter on `view[index]`, in any process. */
  futexWake(view: Int32Array, index: number): void;
}

/** Set to a built `rxkeras_gloo.node` to load that one instead of the package's own. */
export const GLOO_ADDON_ENV = 'RXKERAS_GLOO_ADDON';

let loaded: GlooAddon | undefined;

/** Loads the optional Gloo addon, or throws `GlooUnavailableError` saying what to install and how to build it. */
export function loadGlooAddon(): GlooAddon {
  if (loaded) return loaded;
  const native = nativeDir('gloo');
  const path = process.env[GLOO_ADDON_ENV] || join(native, 'build', 'Release', 'rxkeras_gloo.node');
  if (!existsSync(path)) {
    const recorded = join(native, 'build', 'unavailable.txt');
    const why = existsSync(recorded)
      ? readFileSync(recorded, 'utf8').trim()
      : `the optional Gloo addon is not built (no ${path}).\n` +
        'To train across processes and hosts, install Gloo, a C++ compiler and node-gyp\'s needs\n' +
        `(Debian/Ubuntu: apt-get install -y libgloo-dev g++ make python3, and redis-server for a Redis store), then build it: node ${join(native, 'build.mjs')}`;
    throw new GlooUnavailableError(`distributed training needs Gloo: ${why}`);
  }
  try {
    loaded = createRequire(import.meta.url)(path) as GlooAddon;
  } catch (e) {
    throw new GlooUnavailableError(
      `distributed training needs Gloo: the addon ${path} does not load (${(e as Error).message}). ` +
        `Reinstall libgloo-dev (apt-get install -y libgloo-dev) and rebuild: node ${join(native, 'build.mjs')}`,
    );
  }
  return loaded;
}
