/**
 * A program's own errors reach Node's default report with the wasm backend
 * started: an uncaught exception and an unhandled rejection print exactly
 * what they print without rxkeras (message, stack, exit code 1), not a line
 * of the backend's minified glue; a handler the program installed still runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-errors-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const index = new URL('../../../src/index.ts', import.meta.url).href;

/** A program that starts the backend (unless NO_BACKEND is set), then fails as `failure` says. */
function program(name: string, failure: string, before = ''): string {
  const file = path.join(tmp, `${name}.mts`);
  fs.writeFileSync(file, `${before}\nconst rx = await import(${JSON.stringify(index)});\nif (!process.env.NO_BACKEND) await rx.initBackend({ quiet: true });\n${failure}\n`);
  return file;
}

function run(file: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, ['--import', 'tsx', file], { env: { ...process.env, RXKERAS_BACKEND: 'wasm', ...env }, timeout: 120_000 }, (error, _stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
    ),
  );
}

test("an uncaught exception and an unhandled rejection print Node's own report, as without the backend", async () => {
  const thrown = program('thrown', "throw new Error('boom from the user');");
  const rejected = program('rejected', "Promise.reject(new Error('rejected by the user'));");
  const [a, b, c, d] = await Promise.all([run(thrown), run(thrown, { NO_BACKEND: '1' }), run(rejected), run(rejected, { NO_BACKEND: '1' })]);
  for (const [withBackend, without, message] of [[a, b, 'boom from the user'], [c, d, 'rejected by the user']] as const) {
    assert.equal(withBackend.code, 1, withBackend.stderr.slice(0, 500));
    assert.equal(withBackend.stderr, without.stderr);
    assert.match(withBackend.stderr, new RegExp(`Error: ${message}\\n    at .*\\.mts:\\d+:\\d+`));
    assert.doesNotMatch(withBackend.stderr, /GROWABLE_HEAP|tfjs-backend-wasm/);
  }
});

test("a handler the program installed before the backend started still gets its errors", async () => {
  const file = program(
    'handled',
    "setTimeout(() => { throw new Error('late boom'); }, 10);",
    "process.on('uncaughtException', (e) => { console.error('handled: ' + e.message); process.exit(3); });",
  );
  const r = await run(file);
  assert.equal(r.code, 3, r.stderr.slice(0, 500));
  assert.equal(r.stderr, 'handled: late boom\n');
});
