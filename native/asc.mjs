// Compiles one AssemblyScript file to WebAssembly (with SIMD), for the
// build.mjs of native/fused-update and native/shared-sum.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import asc from 'assemblyscript/asc';

export async function compileAssemblyScript(source, outFile, flags = []) {
  mkdirSync(dirname(outFile), { recursive: true });
  const { error, stderr } = await asc.main([source, '--outFile', outFile, '-O3', '--runtime', 'stub', '--noAssert', ...flags]);
  if (error) {
    console.error(stderr.toString());
    process.exit(1);
  }
}
