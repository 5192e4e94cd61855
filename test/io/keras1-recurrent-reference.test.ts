import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as ops from '../../src/ops/index.js';
import { loadModel, loadWeights, modelFromJSON, readStringListAttr, withH5Read } from '../../src/models/io.js';
import { getGroup, readArray } from '../../src/core/hdf5.js';
import type { Model } from '../../src/models/model.js';
import { numpy, relError, toJson, type NdArray } from '../layers/numpy-reference.js';
import { FIXTURES } from './helpers.js';
import { needsPython } from '../helpers/python.js';

// Keras 1 stored an LSTM as 12 arrays and a GRU as 9, one per gate; rxkeras concatenates them in Keras 2's
// gate order on load. The reference concatenates the same arrays by hand and runs the cell in float64.
const skip = needsPython('numpy');

/** A layer's arrays as the file holds them, by the suffix of their Keras 1 names (`W_i`, `U_z`, ...). */
function perGateArrays(file: string, layer: string): Promise<Record<string, NdArray>> {
  return withH5Read(file, (f) => {
    const root = 'layer_names' in f.attrs ? f : getGroup(f, f, 'model_weights');
    const g = getGroup(f, root, layer);
    const names = readStringListAttr(f, g, 'weight_names') ?? [];
    return Object.fromEntries(
      names.map((n) => {
        const a = readArray(f, g, n);
        return [n.replace(`${layer}_`, '').replace(/:0$/, ''), { shape: a.shape, data: Array.from(a.data) }];
      }),
    );
  });
}

const PRELUDE = `
W = {k: A(v['data']).reshape(v['shape']) for k, v in D['w'].items()}
x = A(D['x']['data']).reshape(D['x']['shape'])
hs = lambda z: np.clip(0.2 * z + 0.5, 0.0, 1.0)  # hard_sigmoid, Keras 1's inner_activation
`;

const LSTM = `${PRELUDE}
gates = ['i', 'f', 'c', 'o']  # Keras 2's order; Keras 1 stored i, c, f, o
kernel = np.concatenate([W['W_' + g] for g in gates], axis=1)
rec = np.concatenate([W['U_' + g] for g in gates], axis=1)
bias = np.concatenate([W['b_' + g] for g in gates])
u = rec.shape[0]
h = np.zeros((x.shape[0], u)); c = np.zeros((x.shape[0], u))
for t in range(x.shape[1]):
    z = x[:, t] @ kernel + h @ rec + bias
    i, f, cc, o = hs(z[:, :u]), hs(z[:, u:2*u]), np.tanh(z[:, 2*u:3*u]), hs(z[:, 3*u:])
    c = f * c + i * cc
    h = o * np.tanh(c)
R = h
`;

const GRU = `${PRELUDE}
gates = ['z', 'r', 'h']
kernel = np.concatenate([W['W_' + g] for g in gates], axis=1)
rec = np.concatenate([W['U_' + g] for g in gates], axis=1)
bias = np.concatenate([W['b_' + g] for g in gates])
u = rec.shape[0]
h = np.zeros((x.shape[0], u))
for t in range(x.shape[1]):
    xs = x[:, t] @ kernel + bias
    z = hs(xs[:, :u] + h @ rec[:, :u])
    r = hs(xs[:, u:2*u] + h @ rec[:, u:2*u])
    hh = np.tanh(xs[:, 2*u:] + (r * h) @ rec[:, 2*u:])
    h = z * h + (1 - z) * hh
R = h
`;

function compare(model: Model, x: ops.Tensor, script: string, w: Record<string, NdArray>, what: string): number {
  const out = model.predict(x) as ops.Tensor;
  const expected = numpy<NdArray>(script, { w, x: toJson(x) });
  const err = relError(out, expected);
  assert.ok(err <= 1e-5, `${what}: max error ${err.toExponential(2)} of the output scale`);
  out.dispose();
  return err;
}

for (const backend of ['tensorflow', 'theano']) {
  test(`Keras 1.2 LSTM (${backend}): 12 arrays loaded predict as the hand-concatenated float64 reference`, { skip }, async () => {
    const file = `${FIXTURES}dl4j/weights/lstm_${backend}_1.h5`;
    const model = await loadModel(file, { onWarning: () => {} });
    const w = await perGateArrays(file, 'lstm_1');
    assert.equal(Object.keys(w).length, 12);
    const x = ops.randomNormal([5, 4, 1], 0, 1, 'float32', 11);
    compare(model, x, LSTM, w, `lstm_${backend}_1`);
    x.dispose();
    model.dispose();
  });
}

test('Keras 1 GRU (Theano backend, lwtnn test network): 9 arrays loaded predict as the hand-concatenated float64 reference', { skip }, async () => {
  const dir = `${FIXTURES}lwtnn/GRU/`;
  const arch = JSON.parse(fs.readFileSync(`${dir}GRU.json`, 'utf8'));
  // The network's Masking and GRU layers as the file's config has them (its MaxoutDense and Highway are Keras 1 layers rxkeras lacks).
  const model = modelFromJSON({ class_name: 'Sequential', config: arch.config.slice(0, 2) });
  await loadWeights(model, `${dir}GRU_weights.h5`, { byName: true });
  const gru = model.layers[1].getConfig();
  assert.equal(gru.reset_after, false, 'a Keras 1 config: Keras 1 had no reset_after');
  const w = await perGateArrays(`${dir}GRU_weights.h5`, 'gru_1');
  assert.equal(Object.keys(w).length, 9);
  const x = ops.randomNormal([3, 30, 19], 0, 1, 'float32', 12);
  compare(model, x, GRU, w, 'gru_1');
  x.dispose();
  model.dispose();
});
