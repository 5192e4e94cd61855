// Compiles the fused optimizer updates (fused-update.ts, AssemblyScript) to
// build/fused-update.wasm with WebAssembly SIMD. Run by `npm run build`.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileAssemblyScript } from '../asc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
await compileAssemblyScript(join(here, 'fused-update.ts'), join(here, 'build', 'fused-update.wasm'), ['--enable', 'simd']);
