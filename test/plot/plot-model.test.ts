/**
 * plotModel as Keras's plot_model: the DOT of a small functional model
 * equals a recorded expectation; the SVG that Graphviz (WebAssembly) lays
 * out, parsed back as XML, has one node per layer and one edge per
 * connection, nested models as clusters; PNG size follows `dpi`.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { Add, Concatenate, Dense, Input, TimeDistributed } from '../../src/layers/index.js';
import { Model } from '../../src/models/model.js';
import { Sequential } from '../../src/models/sequential.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { modelToDot, plotModel } from '../../src/plot/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-plot-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** x -> hidden, skip -> add -> y: a branch and a merge. */
function small(): Model {
  const x = Input({ shape: [4], name: 'x' });
  const a = Add({ name: 'add' }).call([Dense({ units: 3, name: 'hidden' }).call(x), Dense({ units: 3, name: 'skip' }).call(x)]);
  return new Model({ inputs: x, outputs: Dense({ units: 1, name: 'y' }).call(a), name: 'small' });
}

/** Two inputs through one shared nested model, concatenated: a shared layer (two calls) and a cluster. */
function siamese(): Model {
  const i = Input({ shape: [8], name: 'encoder_in' });
  const encoder = new Model({ inputs: i, outputs: Dense({ units: 4, name: 'code' }).call(i), name: 'encoder' });
  const a = Input({ shape: [8], name: 'left' });
  const b = Input({ shape: [8], name: 'right' });
  const joined = Concatenate({ name: 'joined' }).call([encoder.call(a), encoder.call(b)]);
  return new Model({ inputs: [a, b], outputs: Dense({ units: 1, name: 'score' }).call(joined), name: 'siamese' });
}

test('the DOT of a small functional model equals the recorded expectation (record boxes, name: Class, Keras shape tuples)', () => {
  assert.equal(
    modelToDot(small(), { showShapes: true }),
    `digraph G {
  graph [rankdir=TB, concentrate=true, dpi=96, fontname="DejaVu Sans"];
  node [shape=record, fontname="DejaVu Sans"];
  "x" [label="x: InputLayer\\n|{input:|output:}|{{(None, 4)}|{(None, 4)}}"];
  "hidden" [label="hidden: Dense\\n|{input:|output:}|{{(None, 4)}|{(None, 3)}}"];
  "skip" [label="skip: Dense\\n|{input:|output:}|{{(None, 4)}|{(None, 3)}}"];
  "add" [label="add: Add\\n|{input:|output:}|{{[(None, 3), (None, 3)]}|{(None, 3)}}"];
  "y" [label="y: Dense\\n|{input:|output:}|{{(None, 3)}|{(None, 1)}}"];
  "x" -> "hidden";
  "x" -> "skip";
  "hidden" -> "add";
  "skip" -> "add";
  "add" -> "y";
}
`,
  );
  const plain = modelToDot(small(), { showLayerNames: false, rankdir: 'LR', dpi: 150 });
  assert.match(plain, /graph \[rankdir=LR, concentrate=true, dpi=150/);
  assert.match(plain, /"hidden" \[label="Dense"\];/);
  assert.throws(() => modelToDot(small(), { rankdir: 'XY' as 'TB' }), InvalidArgumentError);
});

interface Svg {
  nodes: string[];
  edges: string[];
  clusters: Map<string, string[]>;
  labels: string[];
}

type Box = [number, number, number, number];

/** The bounding box of an SVG polygon's points. */
function box(points: string): Box {
  const xy = points.trim().split(/\s+/).map((p) => p.split(',').map(Number));
  const xs = xy.map((p) => p[0]);
  const ys = xy.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/** Graphviz's SVG as XML: node titles and texts, edge titles (a->b), and the nodes whose boxes lie inside each cluster's box. */
function readSvg(file: string): Svg {
  const xml = new XMLParser({ ignoreAttributes: false, htmlEntities: true, isArray: (name) => ['g', 'text', 'polygon'].includes(name) }).parse(fs.readFileSync(file, 'utf8'));
  const out: Svg = { nodes: [], edges: [], clusters: new Map(), labels: [] };
  const boxes = new Map<string, Box>();
  const clusterBoxes = new Map<string, Box>();
  for (const g of xml.svg.g[0].g as Record<string, unknown>[]) {
    const kind = g['@_class'];
    const title = String(g.title);
    const outline = box(String((g.polygon as Record<string, string>[])?.[0]?.['@_points'] ?? '0,0'));
    if (kind === 'node') {
      out.nodes.push(title);
      out.labels.push(((g.text as { '#text': string }[]) ?? []).map((t) => t['#text']).join(' '));
      boxes.set(title, outline);
    }
    if (kind === 'edge') out.edges.push(title);
    if (kind === 'cluster') clusterBoxes.set(title, outline);
  }
  for (const [cluster, [x0, y0, x1, y1]] of clusterBoxes)
    out.clusters.set(cluster, [...boxes].filter(([, [a, b, c, d]]) => a >= x0 && b >= y0 && c <= x1 && d <= y1).map(([title]) => title));
  return out;
}

test('SVG parsed back: one node per layer, one edge per connected pair of layers, a nested model as a dashed cluster when expanded', async () => {
  const model = siamese();
  const file = path.join(tmp, 'siamese.svg');
  await plotModel(model, file, { showShapes: true });
  const flat = readSvg(file);
  assert.deepEqual(flat.nodes.sort(), ['encoder', 'joined', 'left', 'right', 'score']);
  // The shared encoder is one box; its two calls feed `joined`, drawn as one arrow.
  assert.deepEqual(flat.edges.sort(), ['encoder->joined', 'joined->score', 'left->encoder', 'right->encoder']);
  assert.ok(flat.labels.includes('encoder: Model input: output: (None, 8) (None, 4)'), flat.labels.join(' / '));
  assert.equal(flat.clusters.size, 0);

  await plotModel(model, file, { expandNested: true });
  const nested = readSvg(file);
  assert.deepEqual(nested.nodes.sort(), ['encoder/code', 'encoder/encoder_in', 'joined', 'left', 'right', 'score']);
  assert.deepEqual(nested.clusters, new Map([['cluster_encoder', ['encoder/encoder_in', 'encoder/code']]]));
  assert.deepEqual(nested.edges.sort(), [
    'encoder/code->joined',
    'encoder/encoder_in->encoder/code',
    'joined->score',
    'left->encoder/encoder_in',
    'right->encoder/encoder_in',
  ]);
  assert.ok(nested.labels.includes('code: Dense'));
});

test('a Sequential model is drawn with its InputLayer first, as Keras draws it; wrappers show the wrapped layer', async () => {
  const model = new Sequential({
    layers: [Dense({ units: 2, input_shape: [5, 3], name: 'first' }), TimeDistributed({ layer: Dense({ units: 2, name: 'inner' }), name: 'td' }), Dense({ units: 1, name: 'last' })],
  });
  const file = path.join(tmp, 'seq.svg');
  await plotModel(model, file);
  const svg = readSvg(file);
  assert.deepEqual(svg.labels, ['first_input: InputLayer', 'first: Dense', 'td(inner): TimeDistributed(Dense)', 'last: Dense']);
  assert.deepEqual(svg.edges, ['first_input->first', 'first->td', 'td->last']);
});

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(file: string): [number, number] {
  const b = fs.readFileSync(file);
  assert.deepEqual([...b.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

test('PNG and DOT files by extension; dpi scales the PNG; other extensions are refused before anything is written', async () => {
  const model = small();
  const at96 = path.join(tmp, 'small.png');
  const at192 = path.join(tmp, 'small-192.png');
  await plotModel(model, at96, { showShapes: true });
  await plotModel(model, at192, { showShapes: true, dpi: 192 });
  const [w, h] = pngSize(at96);
  const [w2, h2] = pngSize(at192);
  assert.ok(w > 200 && h > 300, `${w}x${h}`);
  assert.ok(Math.abs(w2 - 2 * w) <= 2 && Math.abs(h2 - 2 * h) <= 2, `${w}x${h} at 96 dpi, ${w2}x${h2} at 192`);
  const dot = path.join(tmp, 'small.dot');
  await plotModel(model, dot, { showShapes: true });
  assert.equal(fs.readFileSync(dot, 'utf8'), modelToDot(model, { showShapes: true }));
  await assert.rejects(plotModel(model, path.join(tmp, 'small.jpg')), (e: Error) => e instanceof InvalidArgumentError && /\.svg, \.png, \.dot/.test(e.message));
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.startsWith('small.jpg')), []);
});
