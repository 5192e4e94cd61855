/**
 * plotHistory: the SVG that Vega-Lite draws, parsed back as XML, has one
 * line per log key with one point per epoch, training and validation in
 * two colours, one panel per metric; PNG is a real PNG.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import * as ops from '../../src/ops/index.js';
import { Dense } from '../../src/layers/index.js';
import { Sequential } from '../../src/models/sequential.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { historySvg, plotHistory } from '../../src/plot/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-plot-history-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

interface Line {
  key: string;
  points: number;
  stroke: string;
}

/** Every element of the parsed SVG, depth first. */
function* elements(node: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(node)) for (const n of node) yield* elements(n);
  else if (node && typeof node === 'object') {
    yield node as Record<string, unknown>;
    for (const v of Object.values(node)) yield* elements(v);
  }
}

/** The line marks of a Vega SVG: their key (aria-label), vertex count and colour; and the panel titles. */
function readChart(svg: string): { lines: Line[]; titles: string[] } {
  const xml = new XMLParser({ ignoreAttributes: false }).parse(svg);
  const lines: Line[] = [];
  const titles: string[] = [];
  for (const e of elements(xml)) {
    if (e['@_aria-roledescription'] === 'line mark')
      lines.push({ key: String(e['@_aria-label']), points: String(e['@_d']).split(/[ML]/).filter(Boolean).length, stroke: String(e['@_stroke']) });
    if (e['@_class'] === 'mark-text role-title-text') titles.push(String(e['@_aria-label']).replace(/^Title text '(.*)'$/, '$1'));
  }
  return { lines, titles };
}

test('one line per log key, one point per epoch; training and validation in two colours; a panel per metric', async () => {
  const history = {
    history: { loss: [0.9, 0.5, 0.3], accuracy: [0.6, 0.8, 0.9], val_loss: [0.8, 0.55, 0.4], val_accuracy: [0.65, 0.78, 0.85], lr: [0.1, 0.1, 0.05] },
    epoch: [0, 1, 2],
  };
  const { lines, titles } = readChart(await historySvg(history));
  assert.deepEqual(titles, ['loss', 'accuracy', 'lr']);
  assert.deepEqual(lines.map((l) => l.key).sort(), Object.keys(history.history).sort());
  for (const l of lines) assert.equal(l.points, 3, `${l.key}: one vertex per epoch`);
  const colour = (key: string) => lines.find((l) => l.key === key)!.stroke;
  assert.equal(colour('loss'), colour('accuracy'));
  assert.equal(colour('val_loss'), colour('val_accuracy'));
  assert.notEqual(colour('loss'), colour('val_loss'));
  await assert.rejects(historySvg({ history: {} }), InvalidArgumentError);
});

test("a History from fit: .svg and .png files, every key of the History drawn", async () => {
  const model = new Sequential({ layers: [Dense({ units: 1, input_shape: [2] })] }).build(1);
  model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] }, 1);
  const x = ops.tensor2d([[0, 0], [0, 1], [1, 0], [1, 1]]);
  const y = ops.tensor2d([[0], [1], [1], [2]]);
  const history = await model.fit(x, y, { epochs: 4, batchSize: 2, validationSplit: 0.5, verbose: 0 });
  ops.dispose([x, y]);
  model.dispose();
  const svgFile = path.join(tmp, 'history.svg');
  await plotHistory(history, svgFile);
  const { lines } = readChart(fs.readFileSync(svgFile, 'utf8'));
  assert.deepEqual(lines.map((l) => l.key).sort(), ['loss', 'mae', 'val_loss', 'val_mae']);
  assert.ok(lines.every((l) => l.points === 4));
  const png = path.join(tmp, 'history.png');
  await plotHistory(history, png);
  const bytes = fs.readFileSync(png);
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
  assert.ok(bytes.readUInt32BE(16) > 600, 'two panels side by side');
  await assert.rejects(plotHistory(history, path.join(tmp, 'history.dot')), InvalidArgumentError);
});
