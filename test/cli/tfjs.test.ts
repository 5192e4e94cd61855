/**
 * The command line with TF.js layers models: `convert --to tfjs` writes one,
 * and `summary`, `predict` and `convert` take its model.json as they take a
 * Keras file.
 */
import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as ops from '../../src/ops/index.js';
import { modelToConfig } from '../../src/io/index.js';
import { loadModel } from '../../src/models/index.js';
import { FIXTURES, assertClose, readInputsAndPredictions } from '../io/helpers.js';
import { oneLine, rxkeras, tempDir, type Run } from './helpers.js';

const tmp = tempDir('rxkeras-cli-tfjs-');
const relu = `${FIXTURES}dl4j/activations/ReLU_0`;
const reluIO = `${relu}_inputs_and_outputs.h5`;
const run = (args: string[]): Promise<Run> => rxkeras(args, { RXKERAS_BACKEND: 'cpu' });
const ok = (r: Run, what: string) => assert.equal(r.code, 0, `${what}: exit code 0 (stderr: ${r.stderr})`);

test('convert --to tfjs, then summary / predict / convert --to h5 from the model.json', async () => {
  const dir = path.join(tmp, 'relu-tfjs');
  ok(await run(['convert', `${relu}_model.h5`, '--to', 'tfjs', '--output', dir]), 'convert --to tfjs');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['group1-shard1of1.bin', 'model.json']);
  const modelJson = path.join(dir, 'model.json');

  const summary = await run(['summary', modelJson]);
  ok(summary, 'summary model.json');
  assert.match(summary.stdout, /Total params: /);

  const predicted = await run(['predict', modelJson, '--input', `${reluIO}:inputs/dense_input`, '--output', '-']);
  ok(predicted, 'predict model.json');
  const { y } = await readInputsAndPredictions(reluIO);
  const parsed = JSON.parse(predicted.stdout) as Record<string, number[][]>;
  assertClose(ops.tensor(Object.values(parsed)[0]), y[0], 1e-4, 'ReLU_0 through TF.js');

  const back = path.join(tmp, 'relu-back.h5');
  ok(await run(['convert', modelJson, '--to', 'h5', '--output', back]), 'convert model.json --to h5');
  const [a, b] = [await loadModel(back), await loadModel(`${relu}_model.h5`)];
  assert.deepEqual(modelToConfig(a), modelToConfig(b));
  const [wa, wb] = [a.getWeights(), b.getWeights()];
  wa.forEach((w, i) => assert.deepEqual(Array.from(w.dataSync()), Array.from(wb[i].dataSync())));
  ops.dispose([...y, ...wa, ...wb]);
  a.dispose();
  b.dispose();
});

test('convert --to tfjs refuses stdout and an architecture without weights; a missing shard is one line', async () => {
  const stdout = await run(['convert', `${relu}_model.h5`, '--to', 'tfjs', '--output', '-']);
  assert.equal(stdout.code, 2);
  const noWeights = await run(['convert', `${relu}_config.json`, '--to', 'tfjs', '--output', path.join(tmp, 'x')]);
  assert.equal(noWeights.code, 2);
  assert.match(noWeights.stderr, /holds no weights/);
  const dir = path.join(tmp, 'broken');
  ok(await run(['convert', `${relu}_model.h5`, '--to', 'tfjs', '--output', dir]), 'convert');
  fs.rmSync(path.join(dir, 'group1-shard1of1.bin'));
  const broken = await run(['summary', path.join(dir, 'model.json')]);
  assert.equal(broken.code, 1);
  assert.ok(oneLine(broken.stderr), broken.stderr);
  assert.match(broken.stderr, /group1-shard1of1\.bin.*missing weight shard/);
});
