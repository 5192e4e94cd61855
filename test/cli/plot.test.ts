/** `rxkeras plot`: a Keras file drawn as plot_model draws it; exit codes 1 (bad file, one line) and 2 (usage). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES } from '../io/helpers.js';
import { limiter, oneLine, rxkeras, tempDir } from './helpers.js';

const tmp = tempDir('rxkeras-plot-cli-');
const model = `${FIXTURES}kotlindl/mnist.h5`;
const pool = limiter(2);
const run = (args: string[]) => pool(() => rxkeras(args, { RXKERAS_BACKEND: 'cpu' }));

test('rxkeras plot MODEL --output model.svg: one box per layer with its shapes, an arrow per connection', async () => {
  const svg = path.join(tmp, 'mnist.svg');
  const dot = path.join(tmp, 'mnist.dot');
  const [a, b] = await Promise.all([
    run(['plot', model, '--output', svg, '--show-shapes']),
    run(['plot', `${FIXTURES}kotlindl/mnist.json`, '--output', dot, '--no-layer-names', '--rankdir', 'LR', '--dpi', '150']),
  ]);
  assert.equal(a.code, 0, a.stderr);
  const text = fs.readFileSync(svg, 'utf8');
  const titles = (kind: string) => [...text.matchAll(new RegExp(`<g id="\\w+" class="${kind}">\\n<title>([^<]*)</title>`, 'g'))].map((m) => m[1].replace('&#45;&gt;', '->'));
  assert.deepEqual(titles('node'), ['flatten_3_input', 'flatten_3', 'dense_6', 'dense_7']);
  assert.deepEqual(titles('edge'), ['flatten_3_input->flatten_3', 'flatten_3->dense_6', 'dense_6->dense_7']);
  assert.match(text, />dense_7: Dense<\/text>[\s\S]*?>\(None, 128\)<[\s\S]*?>\(None, 10\)</);
  assert.equal(b.code, 0, b.stderr);
  assert.match(fs.readFileSync(dot, 'utf8'), /rankdir=LR, concentrate=true, dpi=150[\s\S]*"dense_\d+" \[label="Dense"\]/);
});

test('rxkeras plot: exit 2 for a wrong extension or rankdir, exit 1 with one line for a missing or broken model file', async () => {
  const garbage = path.join(tmp, 'garbage.h5');
  fs.writeFileSync(garbage, 'not HDF5');
  const [ext, rankdir, missing, broken] = await Promise.all([
    run(['plot', model, '--output', path.join(tmp, 'x.jpg')]),
    run(['plot', model, '--output', path.join(tmp, 'x.svg'), '--rankdir', 'XY']),
    run(['plot', path.join(tmp, 'nothere.h5'), '--output', path.join(tmp, 'x.svg')]),
    run(['plot', garbage, '--output', path.join(tmp, 'x.svg')]),
  ]);
  assert.equal(ext.code, 2, ext.stderr);
  assert.match(ext.stderr, /\.svg, \.png or \.dot/);
  assert.equal(rankdir.code, 2, rankdir.stderr);
  for (const r of [missing, broken]) {
    assert.equal(r.code, 1, r.stderr);
    assert.ok(oneLine(r.stderr), r.stderr);
  }
  assert.equal(fs.existsSync(path.join(tmp, 'x.svg')), false);
});
