import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's native/`name` folder (an optional addon's), found upwards from this file (src/ and dist/src/ alike). */
export function nativeDir(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  let dir = here;
  while (!existsSync(join(dir, 'native', name, 'build.mjs'))) {
    const up = dirname(dir);
    if (up === dir) return join(here, 'native', name);
    dir = up;
  }
  return join(dir, 'native', name);
}
