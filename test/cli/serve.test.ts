import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as ops from '../../src/ops/index.js';
import { loadModel } from '../../src/models/index.js';
import { FIXTURES, assertClose, readInputsAndPredictions } from '../io/helpers.js';
import { request, within } from '../serving/helpers.js';
import { BIN, oneLine, rxkeras } from './helpers.js';

const relu = `${FIXTURES}dl4j/activations/ReLU_0`;
const mnist = `${FIXTURES}kotlindl/mnist.h5`;

test('rxkeras serve: Keras files served over TF Serving REST (answers equal Keras), versions by name, SIGTERM drains and exits 0', async () => {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', `${relu}_model.h5`, `${relu}_config.json`, mnist, '--weights', `${relu}_weights.h5`, '--name', 'relu', '--name', 'relu', '--port', '0', '--max-delay-ms', '300'],
    { env: { ...process.env, RXKERAS_QUIET: '1', RXKERAS_BACKEND: 'cpu' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => stdout.split('\n').filter((l) => l.startsWith('rxkeras: serving')).length === 3 && resolve());
        exited.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)));
      }),
      60_000,
      'the three "serving" lines',
    );
    const lines = stdout.trim().split('\n');
    assert.match(lines[0], /^rxkeras: serving relu version 1 \(.*ReLU_0_model\.h5\) at http:\/\/127\.0\.0\.1:\d+\/v1\/models\/relu$/);
    assert.match(lines[1], /^rxkeras: serving relu version 2 \(.*ReLU_0_config\.json\) at /);
    assert.match(lines[2], /^rxkeras: serving mnist version 1 \(.*mnist\.h5\) at /);
    const base = lines[0].split(' at ')[1].replace(/\/v1\/models\/relu$/, '');

    // Keras's own predictions for its recorded inputs, from both versions (h5, and json + weights).
    const { x, y } = await readInputsAndPredictions(`${relu}_inputs_and_outputs.h5`);
    const instances = x[0].arraySync() as number[][];
    const answers = await Promise.all(['', '/versions/1', '/versions/2'].map((v) => request(`${base}/v1/models/relu${v}:predict`, { body: JSON.stringify({ instances }) })));
    for (const a of answers) {
      assert.equal(a.status, 200, a.text);
      assertClose(ops.tensor(JSON.parse(a.text).predictions), y[0], 1e-4, 'served vs Keras');
    }
    // The MNIST model against the same file predicted in this process.
    const model = await loadModel(mnist);
    const rows = Array.from({ length: 3 }, (_, i) => Array.from({ length: 28 }, (_, r) => Array.from({ length: 28 }, (_, c) => ((r * 28 + c + i * 7) % 255) / 255)));
    const expected = model.predict(ops.tensor(rows)) as ops.Tensor;
    const digits = await request(`${base}/v1/models/mnist:predict`, { body: JSON.stringify({ instances: rows }) });
    assertClose(ops.tensor(JSON.parse(digits.text).predictions), expected, 1e-5, 'served vs in-process predict');
    ops.dispose([...x, ...y, expected]);
    model.dispose();

    // SIGTERM while a request waits for its batch: it is answered, then the command exits 0.
    const pending = request(`${base}/v1/models/relu:predict`, { body: JSON.stringify({ instances: [instances[0]] }) });
    await within(
      (async () => {
        while (!(await request(`${base}/metrics`)).text.includes('rxkeras_serving_queue_depth{model="relu",version="2"} 1')) await new Promise((r) => setTimeout(r, 10));
      })(),
      10_000,
      'the request queued',
    );
    child.kill('SIGTERM');
    const last = await within(pending, 10_000, 'the pending answer');
    assert.equal(last.status, 200);
    assert.equal(await within(exited, 20_000, 'exit'), 0, stderr);
    assert.equal(stderr, 'rxkeras: SIGTERM: answered the requests in hand, stopped\n');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('rxkeras serve: usage errors exit 2 before loading anything', async () => {
  const noWeights = await rxkeras(['serve', `${relu}_config.json`]);
  assert.equal(noWeights.code, 2);
  assert.ok(oneLine(noWeights.stderr));
  assert.match(noWeights.stderr, /1 \.json\/\.yaml model\(s\) need as many --weights, in order \(got 0\)/);
  const names = await rxkeras(['serve', mnist, '--name', 'a', '--name', 'b']);
  assert.equal(names.code, 2);
  assert.match(names.stderr, /2 --name for 1 model\(s\)/);
  const port = await rxkeras(['serve', mnist, '--port', '70000']);
  assert.equal(port.code, 2);
  const missing = await rxkeras(['serve', 'nope.h5']);
  assert.equal(missing.code, 1);
  assert.ok(oneLine(missing.stderr));
  assert.match(missing.stderr, /'nope\.h5': no such file or directory/);
});
