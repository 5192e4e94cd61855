/**
 * rxkeras's ONNX Runtime addon (native/ort-session) against onnxruntime-node's
 * binding on the same small graph: the same outputs (float32, int32 and bool;
 * a scalar), the preallocated output written in place, clear errors for a
 * wrong array and a disposed session, a profile written, and every native
 * session freed on dispose; sessions created at once on several worker
 * threads. Skipped where the addon is not built, except in CI
 * (RXKERAS_REQUIRE_ORT_ADDON=1).
 */
import { describe, it } from 'node:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { encodeModel, valueInfo, ATTR, type OnnxNode } from '../../../src/ops/onnx/onnx-proto.js';
import { NativeSession, ortAddon, type Port } from '../../../src/ops/onnx/native-session.js';
import { OrtSession } from '../../../src/ops/onnx/session.js';
import { tsWorker } from '../../helpers/ts-worker.js';

const addon = ortAddon();
if (typeof addon === 'string' && process.env.RXKERAS_REQUIRE_ORT_ADDON === '1') throw new Error(`RXKERAS_REQUIRE_ORT_ADDON=1: ${addon}`);
const skip = typeof addon === 'string' ? addon : false;

const node = (op_type: string, input: string[], output: string[], attribute: OnnxNode['attribute'] = []): OnnxNode => ({ op_type, input, output, attribute });

// relu(a @ b) + float(k) as o0; its sum (a scalar) as o1; o0 > 1 as o2; k * 2 as o3.
const inputs: Port[] = [
  { name: 'a', dtype: 'float32', shape: [2, 3] },
  { name: 'b', dtype: 'float32', shape: [3, 4] },
  { name: 'k', dtype: 'int32', shape: [4] },
];
const outputs: Port[] = [
  { name: 'o0', dtype: 'float32', shape: [2, 4] },
  { name: 'o1', dtype: 'float32', shape: [] },
  { name: 'o2', dtype: 'bool', shape: [2, 4] },
  { name: 'o3', dtype: 'int32', shape: [4] },
];
const model = encodeModel({
  name: 'small',
  node: [
    node('MatMul', ['a', 'b'], ['c']),
    node('Relu', ['c'], ['d']),
    node('Cast', ['k'], ['kf'], [{ name: 'to', type: ATTR.INT, i: 1 }]),
    node('Add', ['d', 'kf'], ['o0']),
    node('ReduceSum', ['o0'], ['o1'], [{ name: 'keepdims', type: ATTR.INT, i: 0 }]),
    node('Constant', [], ['one'], [{ name: 'value_float', type: ATTR.FLOAT, f: 1 }]),
    node('Greater', ['o0', 'one'], ['o2']),
    node('Add', ['k', 'k'], ['o3']),
  ],
  initializer: [],
  input: inputs.map((p) => valueInfo(p.name, p.dtype, p.shape)),
  output: outputs.map((p) => valueInfo(p.name, p.dtype, p.shape)),
});
const feeds = [
  { data: Float32Array.from({ length: 6 }, (_, i) => Math.sin(i + 1)), dtype: 'float32', shape: [2, 3] },
  { data: Float32Array.from({ length: 12 }, (_, i) => Math.cos(3 * i) * 1.5), dtype: 'float32', shape: [3, 4] },
  { data: Int32Array.from([1, -2, 0, 3]), dtype: 'int32', shape: [4] },
];

describe('ONNX Runtime addon', { skip }, () => {
  const ours = () => {
    if (typeof addon === 'string') throw new Error(addon);
    return new NativeSession(addon, model, inputs, outputs, { threads: 1 });
  };

  it('creates sessions on several worker threads at once (their custom operator domain registers without a race)', async () => {
    // Before session creation was serialised, the first sessions of two threads at once now and then failed with ONNX
    // Runtime's "Trying to add a domain to DomainToVersion map, but the domain is already exist" (here in 3 of 6 runs), and
    // a data-parallel replica's model fell back to eager steps for good.
    const go = new SharedArrayBuffer(4);
    const workers = Array.from({ length: 2 }, () => tsWorker(new URL('./fixtures/create-sessions.ts', import.meta.url), { count: 5, go }));
    const errors = workers.map(
      (w) =>
        new Promise<string[]>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('a session-creating thread did not answer within 60 s')), 60_000);
          w.once('message', (m: string[]) => (clearTimeout(timer), resolve(m)));
          w.once('error', (e) => (clearTimeout(timer), reject(e)));
        }),
    );
    // Both threads have loaded the addon by then and spin: start them together.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    Atomics.store(new Int32Array(go), 0, 1);
    Atomics.notify(new Int32Array(go), 0);
    try {
      assert.deepEqual((await Promise.all(errors)).flat(), []);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });

  it("gives onnxruntime-node's outputs, writing a given output array in place", () => {
    const theirs = new OrtSession(model, inputs.map((p) => p.name), outputs.map((p) => p.name), { threads: 1 });
    const reference = theirs.run(feeds);
    theirs.dispose();
    const session = ours();
    const into = new Float32Array(8).fill(Number.NaN);
    const result = session.run(feeds, [{ data: into }]);
    session.dispose();
    assert.equal(result[0], into, 'output 0 is the array given');
    assert.deepEqual(result.map((r) => r.constructor.name), ['Float32Array', 'Float32Array', 'Uint8Array', 'Int32Array']);
    // The same library and kernels on one thread: bit for bit equal.
    result.forEach((r, j) => assert.deepEqual(Array.from(r), Array.from(reference[j]), `output ${j}`));
    // And right: o0[0][0] = relu(sum_k a[0][k] b[k][0]) + 1.
    const a = feeds[0].data as Float32Array, b = feeds[1].data as Float32Array;
    assert.ok(Math.abs(result[0][0] - (Math.max(0, a[0] * b[0] + a[1] * b[4] + a[2] * b[8]) + 1)) < 1e-6);
    assert.deepEqual(Array.from(result[3]), [2, -4, 0, 6]);
  });

  it('says what is wrong with an input, and refuses to run once disposed', () => {
    const session = ours();
    assert.throws(() => session.run([{ ...feeds[0], data: new Float32Array(5) }, feeds[1], feeds[2]]), /input a: expected 6 elements, found 5/);
    assert.throws(() => session.run([feeds[0], feeds[1], { ...feeds[2], data: new Float32Array(4) }]), /input k: expected an Int32Array/);
    session.dispose();
    assert.throws(() => session.run(feeds), /disposed/);
  });

  it("a profiled session writes ONNX Runtime's profile when disposed", () => {
    if (typeof addon === 'string') return;
    const dir = mkdtempSync(join(tmpdir(), 'rxkeras-ort-profile-'));
    try {
      const session = new NativeSession(addon, model, inputs, outputs, { threads: 1, profilePrefix: join(dir, 'small-') });
      session.run(feeds);
      session.dispose();
      const files = readdirSync(dir);
      assert.equal(files.length, 1);
      const events = JSON.parse(readFileSync(join(dir, files[0]), 'utf8')) as { cat?: string; name: string }[];
      assert.equal(events.filter((e) => e.cat === 'Session' && e.name === 'model_run').length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('frees its native session on dispose', () => {
    if (typeof addon === 'string') return;
    const before = addon.liveSessions();
    const sessions = [ours(), ours(), ours()];
    assert.equal(addon.liveSessions(), before + 3);
    for (const s of sessions) s.dispose();
    sessions[0].dispose(); // idempotent
    assert.equal(addon.liveSessions(), before);
  });
});
