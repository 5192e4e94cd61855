/**
 * Every program in examples/faq runs (small sizes: RXKERAS_FAQ_SMALL=1) and
 * prints what its FAQ answer claims. They run one after another in one child
 * process (TensorFlow.js loads once); each one's output is checked here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = fileURLToPath(new URL('../../examples/faq/', import.meta.url));
const examples = fs.readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'toy-data.ts').sort();

// A runner file (the wasm backend's worker threads inherit Node's flags, so no --input-type / -e).
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-faq-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const runner = path.join(tmp, 'run-all.mjs');
fs.writeFileSync(
  runner,
  `for (const f of ${JSON.stringify(examples.map((f) => pathToFileURL(path.join(dir, f)).href))}) {
  console.log('=== ' + f.split('/').pop());
  await import(f);
}
process.exit(0);
`,
);
const outputs: Promise<Map<string, string>> = new Promise((resolve, reject) =>
  execFile(
    process.execPath,
    ['--import', 'tsx', runner],
    { env: { ...process.env, RXKERAS_FAQ_SMALL: '1', RXKERAS_QUIET: '1' }, timeout: 600_000, maxBuffer: 1 << 24 },
    (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stderr}`));
      const sections = stdout.split(/^=== /m).slice(1);
      resolve(new Map(sections.map((s) => [s.slice(0, s.indexOf('\n')), s.slice(s.indexOf('\n') + 1)])));
    },
  ),
);

/** The numbers of a line `prefix: 3 1 2 ...`, for every line with that prefix. */
const rowLists = (text: string, prefix: RegExp): number[][] =>
  text.split('\n').filter((l) => prefix.test(l)).map((l) => l.replace(prefix, '').trim().split(' ').map(Number));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sorted = (a: number[]) => [...a].sort((x, y) => x - y);

const expectations: Record<string, (out: string) => void> = {
  'backend.ts': (out) => {
    const order = out.match(/^backends in order of preference: (.*)$/m)![1].split(', ');
    assert.ok(order.includes('wasm') && order.at(-1) === 'cpu', order.join(', '));
    assert.ok(order.includes(out.match(/^backend: (.*)$/m)![1]), out);
  },
  'sample-batch-epoch.ts': (out) => {
    assert.match(out, /^epoch 1: 4 batches of 16, 16, 16, 2 samples$/m);
    assert.match(out, /^epoch 2: 4 batches of 16, 16, 16, 2 samples$/m);
    assert.match(out, /^steps per epoch = ceil\(50 \/ 16\) = 4$/m);
  },
  'save-and-resume.ts': (out) => assert.match(out, /^resumed exactly: true$/m),
  'architecture-only.ts': (out) => {
    assert.match(out, /^same architecture from JSON: true$/m);
    assert.match(out, /^same architecture from YAML: true$/m);
    assert.match(out, /^layers: hidden \(Dense\), out \(Dense\)$/m);
  },
  'data-parallelism.ts': (out) => {
    const m = /^data parallelism \((\d+) replicas\): accuracy ([\d.]+) -> ([\d.]+)$/m.exec(out);
    assert.ok(m, out);
    assert.ok(Number(m[1]) >= 1 && Number(m[3]) > Number(m[2]), `accuracy went up: ${m[0]}`);
  },
  'device-parallelism.ts': (out) => {
    const m = /^device parallelism \(\/cpu:1, \/cpu:2\): loss ([\d.]+) -> ([\d.]+)$/m.exec(out);
    assert.ok(m, out);
    assert.ok(Number(m[2]) < Number(m[1]), `the loss went down: ${m[0]}`);
  },
  'pretrained.ts': (out) => {
    // nsfwjs's regression snapshot for its logo (Drawing 0.68774), within 1e-3
    const m = /^pretrained classifier: Drawing ([\d.]+) /m.exec(out);
    assert.ok(m && Math.abs(Number(m[1]) - 0.68774) < 1e-3, out);
    assert.match(out, /^feature extractor: 104 of 104 layers with weights pretrained; features of shape \[1,1280\]$/m);
    assert.match(out, /^ImageNet MobileNetV2: (3538984 parameters, weights from Keras's cache|no weights here \(.+\))$/m);
  },
  'weights-only.ts': (out) => {
    assert.match(out, /all 4 arrays equal: true$/m);
    assert.match(out, /'shared' kernel and bias equal: true; 'new_head' kept its own 12 weights$/m);
  },
  'train-vs-test-loss.ts': (out) => {
    const [train, testLoss] = [/training loss .*: (\d\.\d+)$/m, /test loss .*: +(\d\.\d+)$/m].map((r) => Number(out.match(r)![1]));
    assert.ok(train > testLoss, out);
    assert.match(out, /^training loss above test loss: true$/m);
  },
  'on-batch-and-generators.ts': (out) => {
    assert.match(out, /^trainOnBatch x 20: last loss \d\.\d{4}; testOnBatch on new rows: \{"loss":\d\.\d+,"accuracy":[\d.]+\}$/m);
    const made = Number(out.match(/^fit on a generator: 3 epochs of 5 steps, (\d+) batches made/m)![1]);
    assert.ok(made >= 15 && made <= 15 + 3, `${made} batches made for 15 steps (prefetch aside)`);
  },
  'early-stopping.ts': (out) => {
    const trained = Number(out.match(/^asked for 200 epochs, trained (\d+)$/m)![1]);
    assert.ok(trained < 200);
    assert.match(out, /the 3 epochs after it did not improve on it$/m);
    assert.match(out, /^stopped early: true$/m);
  },
  'validation-split.ts': (out) => {
    assert.deepEqual(rowLists(out, /^epoch \d: validated on rows:/), [[16, 17, 18, 19], [16, 17, 18, 19]]);
    const trained = rowLists(out, /^epoch \d: trained on rows in this order:/);
    assert.equal(trained.length, 2);
    for (const t of trained) assert.deepEqual(sorted(t), range(16));
    assert.notDeepEqual(trained[0], trained[1], 'reshuffled every epoch');
  },
  'shuffling.ts': (out) => {
    const shuffled = rowLists(out, /^arrays, shuffle: true, epoch \d:/);
    const ordered = rowLists(out, /^arrays, shuffle: false, epoch \d:/);
    const dataset = rowLists(out, /^data set, shuffle\(\{ seed: 3 \}\), epoch \d:/);
    assert.deepEqual(ordered, [range(12), range(12)]);
    for (const [a, b] of [shuffled, dataset]) {
      assert.deepEqual([sorted(a), sorted(b)], [range(12), range(12)]);
      assert.notDeepEqual(a, b);
      assert.notDeepEqual(a, range(12));
    }
  },
  'history.ts': (out) => {
    assert.match(out, /^epochs: 0, 1, 2$/m);
    for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy']) assert.match(out, new RegExp(`^${key}: \\d\\.\\d{4}, \\d\\.\\d{4}, \\d\\.\\d{4}$`, 'm'));
    assert.match(out, /^plotHistory drew \d+ bytes of SVG$/m);
  },
  'freezing.ts': (out) => {
    assert.match(out, /^trainable params: 9, non-trainable params: 72$/m);
    assert.match(out, /^frozen kernel and bias unchanged by fit: true$/m);
    assert.match(out, /^head kernel changed by fit: true$/m);
  },
  'sequential-pop.ts': (out) => {
    assert.match(out, /^before pop: features, digits; output shape \[null,10\]$/m);
    assert.match(out, /^popped 'digits'; now: features; output shape \[null,16\]$/m);
    assert.match(out, /^after add: features, yes_no; output shape \[null,1\]; params 161$/m);
  },
  'hdf5-input.ts': (out) => {
    const m = out.match(/^fit from data\.h5: 300 rows, (\d+) reads of at most (\d+) rows; accuracy/m)!;
    assert.ok(Number(m[1]) >= 6 && Number(m[2]) === 128, m[0]);
    assert.match(out, /^predict on the plain data set 'features' \[300,8\]: predictions \[300,1\], first 0\.\d{4}$/m);
  },
};

test('every FAQ example has its expectations here', () => {
  assert.deepEqual(examples, Object.keys(expectations).sort());
});

for (const [name, check] of Object.entries(expectations))
  test(`examples/faq/${name} prints what it shows`, async () => {
    const out = (await outputs).get(name);
    assert.ok(out !== undefined, `${name} printed nothing`);
    check(out);
  });
