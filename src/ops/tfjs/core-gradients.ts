import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * tfjs-core's own gradient table (`register_all_gradients`), registered
 * without tfjs-layers. What Node loads for `@tensorflow/tfjs-core` is its
 * CommonJS bundle, which carries no gradient functions, and its ES module
 * files import each other without extensions, which Node's resolver
 * refuses. So the ES entry point is bundled once with esbuild into a single
 * module, kept in `node_modules/.cache/rxkeras/` per tfjs-core version (in
 * memory only where that folder cannot be written), and imported. The
 * bundle holds its own copy of tfjs-core's code, as tfjs-layers' bundle
 * does; tfjs keeps the engine and the gradient registry on a global, so the
 * table lands in the registry every op uses.
 */
export async function registerCoreGradients(): Promise<void> {
  registered ??= load();
  await registered;
}

let registered: Promise<void> | undefined;

const ENTRY = '@tensorflow/tfjs-core/dist/register_all_gradients.js';

async function load(): Promise<void> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve(ENTRY);
  const { version } = require('@tensorflow/tfjs-core/package.json') as { version: string };
  // <node_modules>/@tensorflow/tfjs-core/dist/register_all_gradients.js -> <node_modules>/.cache/rxkeras
  const cacheDir = path.join(path.dirname(entry), '..', '..', '..', '.cache', 'rxkeras');
  const cached = path.join(cacheDir, `tfjs-core-${version}-gradients.mjs`);
  if (!fs.existsSync(cached)) {
    const code = await bundle(require, entry);
    if (!writeAtomically(cached, code)) {
      await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
      return;
    }
  }
  await import(pathToFileURL(cached).href);
}

async function bundle(require: NodeJS.Require, entry: string): Promise<string> {
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = await esbuild.build({ entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'silent' });
  return result.outputFiles[0].text;
}

/** Writes `file` through a temporary file and a rename (concurrent processes may race); false where it cannot. */
function writeAtomically(file: string, text: string): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
    return true;
  } catch {
    fs.rmSync(tmp, { force: true });
    return false;
  }
}
