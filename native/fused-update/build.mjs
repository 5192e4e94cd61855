// Compiles the fused optimizer updates (fused-update.ts, AssemblyScript) with
// WebAssembly SIMD, twice: build/fused-update.wasm over a memory of its own
// (the compiled backend's heap), and build/fused-update-shared.wasm over an
// imported shared memory (a data-parallel group's, where replicas update
// their ranges of the weights in place). Run by `npm run build`.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileAssemblyScript } from '../asc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'fused-update.ts');
await compileAssemblyScript(source, join(here, 'build', 'fused-update.wasm'), ['--enable', 'simd']);
await compileAssemblyScript(source, join(here, 'build', 'fused-update-shared.wasm'), [
  '--enable', 'simd,threads', '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536', '--noExportMemory',
]);
