import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as tf from '@tensorflow/tfjs-core';
import * as rx from '../../src/index.js';
import { startServer, type ModelServer, type ServableModel, type ServerOptions } from '../../src/serving/index.js';
import { assertClose, predictAlone, random, randomRows, request, smallModel, within } from './helpers.js';

/** A server on a free loopback port with `model` as 'm'; closed (and checked for leaks) after `body`. */
async function withServer(options: ServerOptions, model: ServableModel, body: (s: ModelServer, agent: http.Agent) => Promise<void>): Promise<void> {
  const before = tf.memory().numTensors;
  const server = await startServer({ port: 0, ...options });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    server.models.load('m', model);
    await body(server, agent);
  } finally {
    agent.destroy();
    await within(server.close(), 10_000, 'server.close()');
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind by the batches');
}

/** The model, counting the rows of each predict call and failing on a batch that holds 666. */
function counting(model: rx.Model): { model: ServableModel; batches: number[] } {
  const batches: number[] = [];
  return {
    batches,
    model: {
      inputs: model.inputs,
      outputs: model.outputs,
      predict(x, options) {
        const t = x as tf.Tensor;
        batches.push(t.shape[0]);
        if ((t.dataSync() as Float32Array).includes(666)) throw new Error('poisoned row');
        return model.predict(t, options);
      },
    },
  };
}

const model = smallModel(1);
const url = (s: ModelServer, path: string) => `${s.url}${path}`;

test('1,000 concurrent requests of random sizes over loopback: each answer is predict on its own rows (none lost, none swapped)', async () => {
  const { model: spy, batches } = counting(model);
  await withServer({ maxBatchSize: 32, maxDelayMs: 3, maxQueue: 2000 }, spy, async (s, agent) => {
    const rand = random(3);
    const requests = Array.from({ length: 1000 }, (_, i) => {
      const rows = randomRows(rand, 1 + (i % 4), 4);
      const body = i % 2 === 0 ? { instances: rows } : { inputs: rows };
      return { rows, columnar: i % 2 === 1, answer: request(url(s, '/v1/models/m:predict'), { body: JSON.stringify(body), agent }) };
    });
    const answers = await within(Promise.all(requests.map((r) => r.answer)), 60_000, '1,000 answers');
    answers.forEach((a, i) => {
      assert.equal(a.status, 200, a.text);
      const json = JSON.parse(a.text);
      assertClose(requests[i].columnar ? json.outputs : json.predictions, predictAlone(model, requests[i].rows), 1e-6, `request ${i}`);
    });
    assert.equal(batches.reduce((a, b) => a + b, 0), 2500, 'every row computed once');
    assert.ok(batches.length < 1000, `${batches.length} predict calls for 1,000 requests`);
  });
});

test('a full queue answers 429 with Retry-After at once; the accepted requests are still answered', async () => {
  await withServer({ maxBatchSize: 64, maxDelayMs: 300, maxQueue: 4, retryAfterSeconds: 2 }, model, async (s, agent) => {
    const rows = randomRows(random(5), 10, 4);
    const start = performance.now();
    const answers = await Promise.all(rows.map((row) => request(url(s, '/v1/models/m:predict'), { body: JSON.stringify({ instances: [row] }), agent })));
    const refused = answers.filter((a) => a.status === 429);
    const served = answers.filter((a) => a.status === 200);
    assert.equal(served.length, 4);
    assert.equal(refused.length, 6);
    for (const a of refused) {
      assert.equal(a.headers['retry-after'], '2');
      assert.match(JSON.parse(a.text).error, /queue of requests waiting for a batch is full \(maxQueue 4\)/);
    }
    assert.ok(performance.now() - start >= 250, 'the served ones waited for their batch');
  });
});

test('a client that hangs up before its batch runs is never computed', async () => {
  const { model: spy, batches } = counting(model);
  await withServer({ maxBatchSize: 64, maxDelayMs: 300, maxQueue: 16 }, spy, async (s, agent) => {
    const [gone, kept] = randomRows(random(9), 2, 4);
    const abort = new AbortController();
    const cancelled = request(url(s, '/v1/models/m:predict'), { body: JSON.stringify({ instances: [gone, gone, gone] }), signal: abort.signal });
    const answer = request(url(s, '/v1/models/m:predict'), { body: JSON.stringify({ instances: [kept] }), agent });
    setTimeout(() => abort.abort(), 50);
    await assert.rejects(cancelled, { name: 'AbortError' });
    const a = await answer;
    assert.equal(a.status, 200);
    assertClose(JSON.parse(a.text).predictions, predictAlone(model, [kept]));
    assert.deepEqual(batches, [1], "the cancelled request's 3 rows were not computed");
  });
});

test('a batch the model fails on fails its own requests (500, the model error named); the others are answered', async () => {
  const { model: spy } = counting(model);
  await withServer({ maxBatchSize: 2, maxDelayMs: 1, maxQueue: 100 }, spy, async (s, agent) => {
    const rows = randomRows(random(13), 20, 4);
    rows[7][0] = 666;
    const answers = await Promise.all(rows.map((row) => request(url(s, '/v1/models/m:predict'), { body: JSON.stringify({ instances: [row] }), agent })));
    const failed = answers.map((a, i) => [a, i] as const).filter(([a]) => a.status !== 200);
    assert.ok(failed.some(([, i]) => i === 7), 'the poisoned request failed');
    assert.ok(failed.length <= 2, `only the poisoned batch (at most 2 requests) failed, got ${failed.length}`);
    for (const [a] of failed) {
      assert.equal(a.status, 500);
      assert.match(JSON.parse(a.text).error, /the model failed on a batch of [12] request\(s\): poisoned row/);
    }
    answers.forEach((a, i) => a.status === 200 && assertClose(JSON.parse(a.text).predictions, predictAlone(model, [rows[i]])));
    const after = await request(url(s, '/v1/models/m:predict'), { body: JSON.stringify({ instances: [rows[0]] }), agent });
    assert.equal(after.status, 200, 'the server goes on');
  });
});

test('hot swap under load: a new version takes over, the old one answers what it accepted, nothing is lost', async () => {
  let v2: rx.Model | undefined;
  await withServer({ maxBatchSize: 16, maxDelayMs: 2, maxQueue: 1000 }, model, async (s, agent) => {
    const next = (v2 = smallModel(2));
    const rand = random(17);
    const sent: { rows: number[][]; answer: Promise<{ status: number; text: string }> }[] = [];
    const send = () => {
      const rows = randomRows(rand, 1 + (sent.length % 3), 4);
      sent.push({ rows, answer: request(url(s, '/v1/models/m:predict'), { body: JSON.stringify({ instances: rows }), agent }) });
    };
    // 600 requests, 20 every few milliseconds; the swap happens in the middle.
    let swap: Promise<unknown> | undefined;
    for (let wave = 0; wave < 30; wave++) {
      for (let i = 0; i < 20; i++) send();
      if (wave === 15) swap = s.models.swap('m', next, { dispose: true });
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    await within(swap!, 10_000, 'the swap');
    const answers = await within(Promise.all(sent.map((r) => r.answer)), 60_000, 'all answers');
    let fromV1 = 0;
    let fromV2 = 0;
    answers.forEach((a, i) => {
      assert.equal(a.status, 200, a.text);
      const got = JSON.parse(a.text).predictions as number[][];
      const [p1, p2] = [predictAlone(model, sent[i].rows), predictAlone(next, sent[i].rows)];
      const near = (p: number[][]) => got.every((row, r) => row.every((v, c) => Math.abs(v - p[r][c]) <= 1e-6));
      assert.ok(near(p1) !== near(p2), `request ${i} is answered by exactly one version`);
      near(p1) ? fromV1++ : fromV2++;
    });
    assert.ok(fromV1 > 0 && fromV2 > 0, `both versions answered (${fromV1} / ${fromV2})`);
    const status = JSON.parse((await request(url(s, '/v1/models/m'), { agent })).text);
    assert.deepEqual(status.model_version_status.map((v: { version: string; state: string }) => [v.version, v.state]), [['1', 'END'], ['2', 'AVAILABLE']]);
    const later = await request(url(s, '/v1/models/m:predict'), { body: JSON.stringify({ instances: sent[0].rows }), agent });
    assertClose(JSON.parse(later.text).predictions, predictAlone(next, sent[0].rows), 1e-6);
  });
  assert.equal(v2?.variables, undefined, 'the registry disposed the version it owned at close');
});

test('bad bodies get 400 with the field and the expected shape named; unknown models 404; oversize bodies 413', async () => {
  await withServer({ maxBatchSize: 4, bodyLimit: 2048 }, model, async (s, agent) => {
    const a = rx.Input({ shape: [3], name: 'a' });
    const b = rx.Input({ shape: [2, 2], name: 'b' });
    const two = new rx.Model({ inputs: [a, b], outputs: [rx.Dense({ units: 2, name: 'out' }).call(rx.Concatenate({}).call([a, rx.Flatten({}).call(b)]))] });
    two.build(4);
    s.models.load('two', two, { dispose: true });
    const cases: [string, string, number, RegExp][] = [
      ['m', '{"instances": [[1, 2, 3, 4], [1, 2]]}', 400, /^instances\[1\]: expected a list of 4 numbers \(input 'dense_input' takes rows of shape \[4\]\), got a list of 2$/],
      ['m', '{"instances": [[1, 2, "x", 4]]}', 400, /^instances\[0\]\[2\]: expected a number \(input 'dense_input' takes rows of shape \[4\]\), got the string "x"$/],
      ['m', '{"inputs": [[1, 2, 3, 4], [1, 2, 3, null]]}', 400, /^inputs\[1\]\[3\]: expected a number .*, got null$/],
      ['m', '{"instances": [[1, 2, 3, 1e39]]}', 400, /^instances\[0\]\[3\]: expected a number within float32 range/],
      ['m', '{"instances": []}', 400, /^instances: expected at least one row, got an empty list$/],
      ['m', '{"instances": {"x": 1}}', 400, /^instances: expected a list with one element per row, got an object$/],
      ['m', '{"instances": [[1,2,3,4]], "inputs": [[1,2,3,4]]}', 400, /^body: expected only one of "instances" and "inputs", got both$/],
      ['m', '{"rows": [[1,2,3,4]]}', 400, /^body: expected an "instances" or "inputs" key, got the keys \["rows"\]$/],
      ['m', '[[1, 2, 3, 4]]', 400, /^body: expected a JSON object/],
      ['m', '{"instances": [[1, 2, 3, 4]', 400, /^body: expected JSON \(NaN and Infinity allowed\), got a parse error/],
      ['m', '{"signature_name": "classify", "instances": [[1, 2, 3, 4]]}', 400, /^signature_name: expected 'serving_default'/],
      ['m', `{"instances": ${JSON.stringify(randomRows(random(1), 5, 4))}}`, 400, /at most 4 rows \(maxBatchSize\), got 5/],
      ['two', '{"instances": [[1, 2, 3]]}', 400, /^instances\[0\]: expected an object with the inputs a, b, got a list of 3$/],
      ['two', '{"instances": [{"a": [1, 2, 3], "b": [[1, 2], [3]]}]}', 400, /^instances\[0\]\.b\[1\]: expected a list of 2 numbers \(input 'b' takes rows of shape \[2, 2\]\), got a list of 1$/],
      ['two', '{"instances": [{"a": [1, 2, 3]}]}', 400, /^instances\[0\]\.b: expected input 'b' takes rows of shape \[2, 2\], got nothing$/],
      ['two', '{"instances": [{"a": [1, 2, 3], "b": [[1, 2], [3, 4]], "c": 1}]}', 400, /^instances\[0\]\.c: expected only the inputs a, b, got an unknown key$/],
      ['two', '{"inputs": {"a": [[1, 2, 3], [4, 5, 6]], "b": [[[1, 2], [3, 4]]]}}', 400, /^inputs\.b: expected 2 rows \(as many as inputs\.a\), got 1$/],
      ['two', '{"inputs": [[1, 2, 3]]}', 400, /^inputs: expected an object with the inputs a, b, got a list of 1$/],
      ['nope', '{"instances": [[1]]}', 404, /^Servable not found for request: Latest\(nope\)$/],
      ['m/versions/9', '{"instances": [[1, 2, 3, 4]]}', 404, /^Servable not found for request: Specific\(m, 9\)$/],
      ['%zz', '{"instances": [[1, 2, 3, 4]]}', 400, /^'\/v1\/models\/%zz:predict' is not a valid url component$/],
      ['m', `{"instances": [[${'1,'.repeat(1100)}1]]}`, 413, /^the request body is larger than the limit of 2048 bytes$/],
    ];
    for (const [name, body, status, message] of cases) {
      const r = await request(url(s, `/v1/models/${name}:predict`), { body, agent });
      assert.equal(r.status, status, `${body.slice(0, 60)}: ${r.text}`);
      assert.match(JSON.parse(r.text).error, message, body.slice(0, 60));
    }
    const classify = await request(url(s, '/v1/models/m:classify'), { body: '{"examples": []}', agent });
    assert.equal(classify.status, 400);
    // Both layouts of a two-input model work, and NaN / Infinity are accepted as TF Serving accepts them.
    const ok = await request(url(s, '/v1/models/two:predict'), { body: '{"inputs": {"a": [[1, NaN, 3]], "b": [[[1, 2], [3, Infinity]]]}}', agent });
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.text, /^\{\n {4}"outputs": \[\n {8}\[\n {12}(NaN|-?Infinity|[-0-9.e+]+),\n/);
  });
});

test('graceful shutdown: close() answers every accepted request, refuses new ones, then unloads', async () => {
  const before = tf.memory().numTensors;
  const owned = smallModel(3);
  const server = await startServer({ port: 0, maxBatchSize: 64, maxDelayMs: 300, maxQueue: 64 });
  server.models.load('m', owned, { dispose: true });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const rows = randomRows(random(21), 5, 4);
  const expected = rows.map((row) => predictAlone(owned, [row]));
  const inFlight = rows.map((row) => request(`${server.url}/v1/models/m:predict`, { body: JSON.stringify({ instances: [row] }), agent }));
  // Close once all five wait in the queue (accepted), long before their batch's 300 ms are up.
  await within(
    (async () => {
      while (!(await server.metrics.text()).includes('rxkeras_serving_queue_depth{model="m",version="1"} 5')) await new Promise((r) => setTimeout(r, 5));
    })(),
    5000,
    'five requests queued',
  );
  const closed = server.close();
  const late = request(`${server.url}/v1/models/m:predict`, { body: JSON.stringify({ instances: [rows[0]] }) }).then(
    (a) => a.status,
    (e: NodeJS.ErrnoException) => e.code,
  );
  const answers = await within(Promise.all(inFlight), 10_000, 'in-flight answers');
  answers.forEach((a, i) => {
    assert.equal(a.status, 200, a.text);
    assertClose(JSON.parse(a.text).predictions, expected[i]);
  });
  assert.ok(['ECONNREFUSED', 503].includes((await late) as never), `a request after close is refused (${await late})`);
  await within(closed, 10_000, 'close()');
  agent.destroy();
  assert.equal(owned.variables, undefined, 'unloaded');
  assert.equal(tf.memory().numTensors, before, 'the model and every batch freed');
});

test('status, metadata and /metrics', async () => {
  await withServer({ maxBatchSize: 8, maxDelayMs: 1 }, model, async (s, agent) => {
    const v7 = smallModel(5);
    s.models.load('m', v7, { version: 7, dispose: true });
    const rows = randomRows(random(2), 3, 4);
    for (const row of rows) assert.equal((await request(url(s, '/v1/models/m/versions/7:predict'), { body: JSON.stringify({ instances: [row] }), agent })).status, 200);
    await request(url(s, '/v1/models/m:predict'), { body: '{}', agent });
    const status = await request(url(s, '/V1/Models/m/versions/7'), { agent });
    assert.equal(status.text, '{\n "model_version_status": [\n  {\n   "version": "7",\n   "state": "AVAILABLE",\n   "status": {\n    "error_code": "OK",\n    "error_message": ""\n   }\n  }\n ]\n}\n');
    assert.equal((await request(url(s, '/v1/models/m'), { agent })).text.match(/"version"/g)?.length, 2);
    assert.equal((await request(url(s, '/v1/models/x'), { agent })).status, 404);
    const meta = await request(url(s, '/v1/models/m/metadata'), { agent });
    assert.ok(meta.text.startsWith('{\n"model_spec":{\n "name": "m",\n "signature_name": "",\n "version": "7"\n}\n,\n"metadata": {"signature_def": {\n "signature_def": {'), meta.text);
    const sig = JSON.parse(meta.text).metadata.signature_def.signature_def.serving_default;
    assert.deepEqual(Object.keys(sig.inputs), v7.inputNames);
    assert.deepEqual(sig.inputs[v7.inputNames[0]].tensor_shape.dim, [{ size: '-1', name: '' }, { size: '4', name: '' }]);
    assert.equal(sig.inputs[v7.inputNames[0]].dtype, 'DT_FLOAT');
    assert.deepEqual(Object.keys(sig.outputs), v7.outputNames);
    assert.equal(sig.outputs[v7.outputNames[0]].name, 'StatefulPartitionedCall:0');
    assert.equal(sig.method_name, 'tensorflow/serving/predict');
    const metrics = await request(url(s, '/metrics'), { agent });
    assert.match(metrics.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(metrics.text, /rxkeras_serving_requests_total\{model="m",code="200"\} 3\n/);
    assert.match(metrics.text, /rxkeras_serving_requests_total\{model="m",code="400"\} 1\n/);
    assert.match(metrics.text, /rxkeras_serving_batch_size_sum\{model="m",version="7"\} 3\n/);
    assert.match(metrics.text, /rxkeras_serving_queue_depth\{model="m",version="7"\} 0\n/);
    assert.match(metrics.text, /rxkeras_serving_request_duration_seconds_count\{model="m"\} 4\n/);
  });
});
