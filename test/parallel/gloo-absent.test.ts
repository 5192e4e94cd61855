// Without Gloo: the install step still succeeds and says what to install,
// training on one machine works, and asking for a distributed run names what
// to install and how to build the addon.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const NATIVE = new URL('../../native/gloo/', import.meta.url).pathname;

function node(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, ...env }, cwd, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
    );
  });
}

test('build.mjs without libgloo-dev exits 0, says what to install, and records it for the loader', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rxkeras-gloo-absent-'));
  const dir = join(root, 'gloo');
  try {
    cpSync(join(NATIVE, '..', 'addon-build.mjs'), join(root, 'addon-build.mjs'));
    for (const part of ['build.mjs', 'binding.gyp', 'src']) cpSync(join(NATIVE, part), join(dir, part), { recursive: true });
    const run = await node([join(dir, 'build.mjs')], { RXKERAS_GLOO_PREFIX: join(dir, 'no-such-prefix') });
    assert.equal(run.code, 0);
    assert.match(run.stderr, /missing libgloo-dev \(no Gloo headers and library under .*no-such-prefix\), libhiredis-dev/);
    assert.match(run.stderr, /apt-get install -y libgloo-dev g\+\+ make python3/);
    assert.match(run.stderr, new RegExp(`node ${join(dir, 'build.mjs')}`));
    assert.equal(readFileSync(join(dir, 'build', 'unavailable.txt'), 'utf8'), run.stderr.replace(/^rxkeras: /, ''));
    assert.equal(existsSync(join(dir, 'build', 'Release')), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('without the addon a model still trains on one machine, and initDistributed throws GlooUnavailableError saying what to install', async () => {
  const env = {
    RXKERAS_GLOO_ADDON: '/nonexistent/rxkeras_gloo.node',
    RXKERAS_BACKEND: 'cpu',
    RXKERAS_RANK: '0',
    RXKERAS_WORLD_SIZE: '2',
    RXKERAS_STORE: 'file:///tmp',
  };
  const run = await node(['--import', 'tsx', new URL('./fixtures/train-without-gloo.ts', import.meta.url).pathname], env);
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.equal(out.epochs, 2);
  assert.equal(out.name, 'GlooUnavailableError');
  assert.equal(out.gloo, true);
  assert.match(out.message, /apt-get install -y libgloo-dev g\+\+ make python3/);
  assert.match(out.message, /native\/gloo\/build\.mjs/);
});
