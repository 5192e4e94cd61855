import { backendReady, onBackend } from '../../helpers/backend.js';
await backendReady;

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend, BACKEND_ENV } from '../../../src/ops/tfjs/backend.js';
import { InvalidArgumentError } from '../../../src/core/errors.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
/** A child that does not exit by itself within this bound fails the test (the wasm thread pool must not hold the process). */
const EXIT_BOUND_MS = 30_000;

interface ChildResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs `node --import tsx -e script` in the repository root; kills it after EXIT_BOUND_MS. */
function runChild(script: string, env: Record<string, string | undefined>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_BOUND_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The child initialises the backend the way the engine does, multiplies two fixed matrices, prints JSON. */
const MATMUL_CHILD = `
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './src/ops/tfjs/backend.ts';
import { wasmInfo } from './src/ops/tfjs/wasm-setup.ts';
const name = await initBackend();
const n = 96;
const a = tf.tensor(Array.from({ length: n * n }, (_, i) => ((i * 7919) % 97) / 97 - 0.5), [n, n]);
const b = tf.tensor(Array.from({ length: n * n }, (_, i) => ((i * 104729) % 89) / 89 - 0.5), [n, n]);
const c = Array.from(tf.matMul(a, b).dataSync());
const ct = Array.from(tf.matMul(a, b, true, false).dataSync());
process.stdout.write(JSON.stringify({ name, backend: tf.getBackend(), info: wasmInfo() ?? null, c, ct }));
`;

function expectedMatMul(): Promise<{ c: number[]; ct: number[] }> {
  return onBackend('cpu', () =>
    tf.tidy(() => {
      const n = 96;
      const a = tf.tensor(Array.from({ length: n * n }, (_, i) => ((i * 7919) % 97) / 97 - 0.5), [n, n]);
      const b = tf.tensor(Array.from({ length: n * n }, (_, i) => ((i * 104729) % 89) / 89 - 0.5), [n, n]);
      return { c: Array.from(tf.matMul(a, b).dataSync()), ct: Array.from(tf.matMul(a, b, true, false).dataSync()) };
    }),
  );
}

function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++)
    if (!(Math.abs(actual[i]! - expected[i]!) <= 1e-5 + 1e-4 * Math.abs(expected[i]!)))
      assert.fail(`${what}[${i}]: ${actual[i]} vs cpu ${expected[i]} (tolerance 1e-5 + 1e-4*|cpu|)`);
}

describe('wasm threads (child processes)', () => {
  const wanted = Math.min(8, availableParallelism());

  it(`default: ${wanted} thread(s), results equal the cpu backend, the process exits by itself with code 0`, async () => {
    const r = await runChild(MATMUL_CHILD, { [BACKEND_ENV]: undefined, RXKERAS_WASM_THREADS: undefined });
    assert.equal(r.signal, null, `child did not exit within ${EXIT_BOUND_MS} ms (killed); stderr: ${r.stderr.slice(-500)}`);
    assert.equal(r.code, 0, `child exit code; stderr: ${r.stderr.slice(-500)}`);
    const out = JSON.parse(r.stdout) as { name: string; backend: string; info: { threads: number; binary: string }; c: number[]; ct: number[] };
    // The default is compiled steps on ONNX Runtime, with eager ops on wasm.
    assert.equal(out.name, 'compiled');
    assert.equal(out.backend, 'wasm');
    assert.equal(out.info.threads, wanted, `threads; stderr: ${r.stderr}`);
    assert.equal(out.info.binary, wanted > 1 ? 'threaded-simd' : 'simd');
    assert.match(r.stderr, new RegExp(`rxkeras: backend compiled \\(ONNX Runtime [0-9.]+ through (rxkeras's addon|onnxruntime-node's binding; [^\\n]+), ${availableParallelism()} threads; eager ops on wasm \\(${wanted} threads?\\)\\)`));
    const exp = await expectedMatMul();
    assertClose(out.c, exp.c, 'matMul');
    assertClose(out.ct, exp.ct, 'matMul transposeA');
  });

  it('RXKERAS_WASM_THREADS=4 keeps the pool workers its threads run on and ends the idle ones Emscripten started', async () => {
    const script = MATMUL_CHILD.replace("import { wasmInfo }", "import { wasmInfo, wasmWorkers }").replace(
      'process.stdout.write(JSON.stringify({',
      'process.stdout.write(JSON.stringify({ workers: wasmWorkers(), ',
    );
    const r = await runChild(script, { [BACKEND_ENV]: 'wasm', RXKERAS_WASM_THREADS: '4' });
    assert.equal(r.signal, null, `child did not exit within ${EXIT_BOUND_MS} ms (killed); stderr: ${r.stderr.slice(-500)}`);
    assert.equal(r.code, 0, r.stderr.slice(-500));
    const out = JSON.parse(r.stdout) as { workers: { running: number; idle: number }; info: { threads: number }; c: number[] };
    assert.equal(out.info.threads, 4);
    // XNNPACK's pool runs threads - 1 workers beside the calling thread; Emscripten had started 8.
    assert.deepEqual(out.workers, { running: 3, idle: 0 });
    assertClose(out.c, (await expectedMatMul()).c, 'matMul');
  });

  it('RXKERAS_WASM_THREADS=1 uses the single-threaded SIMD binary', async () => {
    const r = await runChild(MATMUL_CHILD, { [BACKEND_ENV]: 'wasm', RXKERAS_WASM_THREADS: '1' });
    assert.equal(r.code, 0, r.stderr.slice(-500));
    const out = JSON.parse(r.stdout) as { info: { threads: number; binary: string }; c: number[] };
    assert.deepEqual(out.info, { threads: 1, binary: 'simd' });
    assertClose(out.c, (await expectedMatMul()).c, 'matMul');
  });

  it('falls back to one thread, with the reason, when threads cannot work (no SharedArrayBuffer)', async () => {
    // (node --no-harmony-sharedarraybuffer would also stop tsx's loader, so the child removes the global itself.)
    const script = `Reflect.deleteProperty(globalThis, 'SharedArrayBuffer');\n${MATMUL_CHILD}`;
    const r = await runChild(script, { [BACKEND_ENV]: 'wasm', RXKERAS_WASM_THREADS: '2' });
    assert.equal(r.code, 0, r.stderr.slice(-500));
    const out = JSON.parse(r.stdout) as { backend: string; info: { threads: number; binary: string; fallbackReason?: string }; c: number[] };
    assert.equal(out.backend, 'wasm');
    assert.equal(out.info.threads, 1);
    assert.equal(out.info.binary, 'simd');
    assert.match(out.info.fallbackReason ?? '', /SharedArrayBuffer/);
    assertClose(out.c, (await expectedMatMul()).c, 'matMul');
  });
});

describe('backend choice', () => {
  it(`${BACKEND_ENV}=cpu gives the cpu backend, without tfjs's Node.js banner`, async () => {
    const r = await runChild(
      `import * as tf from '@tensorflow/tfjs-core';
       import { initBackend } from './src/ops/tfjs/backend.ts';
       const name = await initBackend();
       tf.tensor([1, 2]).dataSync();
       process.stdout.write(JSON.stringify({ name, backend: tf.getBackend() }));`,
      { [BACKEND_ENV]: 'cpu' },
    );
    assert.equal(r.code, 0, r.stderr.slice(-500));
    assert.deepEqual(JSON.parse(r.stdout), { name: 'cpu', backend: 'cpu' });
    assert.match(r.stderr, /rxkeras: backend cpu/);
    assert.doesNotMatch(r.stdout + r.stderr, /looks like you are running TensorFlow\.js in Node\.js/);
  });

  it('an unknown backend name is an InvalidArgumentError naming the variable and the choices', async () => {
    const before = tf.getBackend();
    await assert.rejects(chooseBackend('tpu'), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError);
      assert.match(e.message, new RegExp(`${BACKEND_ENV}: expected one of compiled, tensorflow-gpu, tensorflow, wasm, cpu, got .*tpu`));
      return true;
    });
    assert.equal(tf.getBackend(), before, 'a refused name changes nothing');
  });

  it('without tfjs-node (absent here) the eager backend under compiled steps is wasm', async (t) => {
    const nodeBinding = await import('@tensorflow/tfjs-node' as string).then(
      () => true,
      () => false,
    );
    if (nodeBinding) return t.skip('@tensorflow/tfjs-node is installed on this machine');
    const r = await runChild(
      `import * as tf from '@tensorflow/tfjs-core';
       import { initBackend } from './src/ops/tfjs/backend.ts';
       process.stdout.write(JSON.stringify({ name: await initBackend({ quiet: true }), backend: tf.getBackend() }));`,
      { [BACKEND_ENV]: undefined },
    );
    assert.equal(r.code, 0, r.stderr.slice(-500));
    assert.deepEqual(JSON.parse(r.stdout), { name: 'compiled', backend: 'wasm' });
  });

  it(`${BACKEND_ENV}=wasm turns compiled steps off`, async () => {
    const r = await runChild(
      `import { initBackend } from './src/ops/tfjs/backend.ts';
       import { compiledStepsEnabled } from './src/ops/compiled/index.ts';
       process.stdout.write(JSON.stringify({ name: await initBackend({ quiet: true }), compiled: compiledStepsEnabled() }));`,
      { [BACKEND_ENV]: 'wasm' },
    );
    assert.equal(r.code, 0, r.stderr.slice(-500));
    assert.deepEqual(JSON.parse(r.stdout), { name: 'wasm', compiled: false });
  });

  it('forcing a backend that cannot load is an error, not a silent fall-through', async (t) => {
    if (await import('@tensorflow/tfjs-node' as string).then(() => true, () => false)) return t.skip('@tensorflow/tfjs-node is installed');
    await assert.rejects(chooseBackend('tensorflow'), /RXKERAS_BACKEND=tensorflow: backend 'tensorflow' failed to load/);
  });
});
