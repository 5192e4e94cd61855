import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The first folder upwards from this file (src/ and dist/src/ alike) that holds `relative`, joined with it; undefined when none does. */
function findUpwards(relative: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The package's native/`name` folder (an optional addon's), found by its build.mjs. */
export function nativeDir(name: string): string {
  const buildScript = findUpwards(join('native', name, 'build.mjs'));
  return buildScript ? dirname(buildScript) : join(dirname(fileURLToPath(import.meta.url)), 'native', name);
}

/** A built file of the package's native/ folder (for example `fused-update/build/fused-update.wasm`); undefined when it was not built. */
export function builtFile(relative: string): string | undefined {
  return findUpwards(join('native', relative));
}
