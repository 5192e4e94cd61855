// Compiles the shared-memory sums (shared-sum.ts, AssemblyScript) to
// build/shared-sum.wasm with WebAssembly SIMD over an imported shared
// memory. Run by `npm run build`.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileAssemblyScript } from '../asc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
await compileAssemblyScript(join(here, 'shared-sum.ts'), join(here, 'build', 'shared-sum.wasm'), [
  '--enable', 'simd,threads', '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536', '--noExportMemory',
]);
