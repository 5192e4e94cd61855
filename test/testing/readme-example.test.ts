// The README's example of rxkeras/testing, run as it is written there (test/package/readme.test.ts checks
// that the README shows this code); only the import paths differ: 'rxkeras' is ../../src here.
import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import * as rx from '../../src/index.js';
import * as testing from '../../src/testing/index.js';

// README example: begin
// A custom layer: y = x * scale + offset, one (scale, offset) pair per feature.
const Affine = (raw: unknown): rx.Layer => {
  const config = rx.decodeLayerConfig('Affine', t.type({}), raw);
  return rx.defineLayer('Affine', config, {
    init: (_key, shape) => {
      const n = (shape as number[]).at(-1)!;
      return { params: { scale: rx.ops.ones([n]), offset: rx.ops.zeros([n]) }, state: {}, outputShape: shape };
    },
    // tidy: the product in between is freed (without it, expectNoLeaks and runLayerTest fail).
    apply: (p, state, x) => ({ outputs: rx.ops.tidy(() => rx.ops.add(rx.ops.mul(x as rx.ops.Tensor, p.scale), p.offset)), state }),
    computeOutputShape: (shape) => shape,
  });
};
rx.registerLayer('Affine', Affine); // so that its config can be read back

test('Affine passes Keras run_layer_test for any width, its gradients check, and no input leaks a tensor', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 6 }), (n) => testing.runLayerTest({ layer: Affine({}), inputShape: [null, n], expectedParams: 2 * n })),
    { numRuns: 5 },
  );
  const layer = Affine({});
  const params = testing.randomParams(layer, [null, 3]);
  // Any input, NaN and infinities included: no tensor leaks, and a non-finite value stays in its own element.
  fc.assert(
    fc.property(testing.tensorData({ shape: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constant(3)), nan: true, infinity: true }), (data) => {
      const x = testing.toTensor(data);
      const y = testing.expectNoLeaks(() => layer.apply(params, {}, x, { training: false }).outputs as rx.ops.Tensor);
      const out = y.dataSync();
      data.values.forEach((v, i) => Number.isFinite(v) && assert.ok(Number.isFinite(out[i])));
      rx.ops.dispose([x, y]);
    }),
  );
  // Finite inputs: the gradients agree with finite differences.
  fc.assert(
    fc.property(testing.tensorData({ shape: [2, 3], min: -1, max: 1 }), (data) => {
      const x = testing.toTensor(data);
      testing.checkLayerGradients(layer, params, [x]);
      x.dispose();
    }),
    { numRuns: 10 },
  );
  rx.ops.dispose(Object.values(params));
});
// README example: end

import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as t from 'io-ts';
