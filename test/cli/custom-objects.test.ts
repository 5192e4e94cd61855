import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import * as ops from '../../src/ops/index.js';
import { registerCustomObjects } from '../../src/custom-objects/index.js';
import { Dense } from '../../src/layers/dense.js';
import { saveModel } from '../../src/models/io.js';
import { Sequential } from '../../src/models/sequential.js';
import { ROOT, oneLine, rxkeras, tempDir } from './helpers.js';

const tmp = tempDir('rxkeras-cli-custom-');
// The user's module: TypeScript, registering nothing itself; the command registers its `customObjects` export.
const moduleFile = path.join(tmp, 'my-objects.mts');
fs.writeFileSync(
  moduleFile,
  `import * as ops from ${JSON.stringify(path.join(ROOT, 'src/ops/index.ts'))};
export const customObjects = {
  activations: { cube: (x: ops.Tensor) => ops.mul(ops.mul(x, x), x) },
  losses: { half_mse: (a: ops.Tensor, b: ops.Tensor) => ops.mul(ops.mean(ops.square(ops.sub(a, b)), -1), 0.5) },
};
`,
);
const { customObjects } = (await import(moduleFile)) as { customObjects: Parameters<typeof registerCustomObjects>[0] };
registerCustomObjects(customObjects);

const model = new Sequential({ layers: [Dense({ units: 3, input_shape: [4], activation: 'cube', name: 'out' })] }).build(7);
model.compile({ optimizer: 'sgd', loss: 'half_mse' });
const modelFile = path.join(tmp, 'cube.h5');
await saveModel(model, modelFile);
const x = ops.tensor([[0.1, -0.2, 0.3, 0.4], [1, 0.5, -0.5, 0.2]]);
const expected = model.predict(x) as ops.Tensor;
await h5wasm.ready;
const inputFile = path.join(tmp, 'x.h5');
const f = new h5wasm.File(inputFile, 'w');
f.create_dataset({ name: 'x', data: x.dataSync() as Float32Array, shape: x.shape, dtype: '<f' });
f.close();

const env = { RXKERAS_BACKEND: 'cpu' };
const args = ['predict', modelFile, '--input', `${inputFile}:x`, '--output', '-'];
const [withModule, without] = await Promise.all([rxkeras(['--custom-objects', moduleFile, ...args], env), rxkeras(args, env)]);

test('rxkeras --custom-objects MODULE: a custom activation and a custom loss in training_config resolve', () => {
  assert.equal(withModule.code, 0, withModule.stderr);
  const out = JSON.parse(withModule.stdout) as { out: number[][] };
  const got = out.out.flat();
  Array.from(expected.dataSync()).forEach((v, i) => assert.ok(Math.abs(got[i] - v) <= 1e-5 * Math.max(1, Math.abs(v)), `${got[i]} vs ${v}`));
});

test('without the module: exit code 1, one line naming the unknown activation and how to register it', () => {
  assert.equal(without.code, 1);
  assert.ok(oneLine(without.stderr), without.stderr);
  assert.match(without.stderr, /unknown activation 'cube'.*registerActivation\('cube'/);
});
