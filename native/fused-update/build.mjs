// Compiles the fused optimizer updates (fused-update.ts, AssemblyScript) to
// build/fused-update.wasm with WebAssembly SIMD. Run by `npm run build`.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, 'build'), { recursive: true });
const { error, stderr } = await asc.main([
  join(here, 'fused-update.ts'),
  '--outFile', join(here, 'build', 'fused-update.wasm'),
  '-O3', '--runtime', 'stub', '--enable', 'simd', '--noAssert',
]);
if (error) {
  console.error(stderr.toString());
  process.exit(1);
}
