// Without rxkeras's ONNX Runtime addon: the install step still succeeds and
// records why, and compiled steps run through onnxruntime-node's binding,
// say so, and still train as eager steps do.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const NATIVE = new URL('../../../native/', import.meta.url).pathname;
const ABSENT = { RXKERAS_ORT_ADDON: '/nonexistent/rxkeras_ort_session.node' };

function node(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  // A child test file run under this runner would report to it in its own protocol, not TAP.
  const { NODE_TEST_CONTEXT: _, ...parent } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { ...parent, ...env }, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
    );
  });
}

test("build.mjs without onnxruntime-node's library exits 0, says what is missing, and records it for the loader", async () => {
  const root = mkdtempSync(join(tmpdir(), 'rxkeras-ort-absent-'));
  const dir = join(root, 'ort-session');
  try {
    cpSync(join(NATIVE, 'addon-build.mjs'), join(root, 'addon-build.mjs'));
    for (const part of ['build.mjs', 'binding.gyp', 'src']) cpSync(join(NATIVE, 'ort-session', part), join(dir, part), { recursive: true });
    const run = await node([join(dir, 'build.mjs')], {});
    assert.equal(run.code, 0);
    assert.match(run.stderr, /the optional ONNX Runtime addon was not built: missing onnxruntime-node's libonnxruntime\.so\.1/);
    assert.match(run.stderr, new RegExp(`node ${join(dir, 'build.mjs')}`));
    assert.equal(readFileSync(join(dir, 'build', 'unavailable.txt'), 'utf8'), run.stderr.replace(/^rxkeras: /, ''));
    assert.equal(existsSync(join(dir, 'build', 'Release')), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("without the addon compiled steps run through onnxruntime-node's binding, say why, and equal eager training", async () => {
  const said = await node(['--import', 'tsx', new URL('./fixtures/binding.ts', import.meta.url).pathname], ABSENT);
  assert.equal(said.code, 0, said.stderr);
  assert.match(said.stdout, /^compiled \(ONNX Runtime [0-9.]+ through onnxruntime-node's binding; the optional ONNX Runtime addon is not built \(no \/nonexistent\/rxkeras_ort_session\.node/);
  const trained = await node(['--import', 'tsx', '--test-name-pattern=^Adam,', new URL('../compiled/training.test.ts', import.meta.url).pathname], ABSENT);
  assert.equal(trained.code, 0, trained.stdout.slice(-2000));
  assert.match(trained.stdout, /^# pass 1$/m);
  assert.match(trained.stdout, /^# fail 0$/m);
  // a lent reader slot (a view of a SharedArrayBuffer) runs through this binding too
  const lent = await node(['--import', 'tsx', '--test-name-pattern=SharedArrayBuffer', new URL('../compiled/lent.test.ts', import.meta.url).pathname], ABSENT);
  assert.equal(lent.code, 0, lent.stdout.slice(-2000));
  assert.match(lent.stdout, /^# pass 1$/m);
  // The standard-operator lowerings of the max-pooling gradient and the filter patches (the addon runs kernels of its own instead).
  const glue = await node(['--import', 'tsx', '--test-name-pattern=^(maxPool|conv2d)', new URL('../compiled/kernels.test.ts', import.meta.url).pathname], ABSENT);
  assert.equal(glue.code, 0, glue.stdout.slice(-2000));
  assert.match(glue.stdout, /^# pass 19$/m);
});
