/**
 * Every layer class that trains (test/layers/trains.test.ts's table), trained
 * 20 SGD steps with compiled steps and eagerly: the same History and
 * weights within 1e-4. The classes that compile and those that fall back to
 * eager (with the kernel that has no lowering) are asserted, so that a
 * regression in either direction shows.
 */
import { backendReady } from '../../helpers/backend.js';
await backendReady;

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as L from '../../../src/layers/index.js';
import { Input } from '../../../src/layers/input-layer.js';
import { Model } from '../../../src/models/model.js';
import { SGD } from '../../../src/optimizers/index.js';
import { compiledBackend } from '../../../src/ops/compiled/index.js';
import { inputShapeOf, inputsFor, isList, make, trainableClasses, values } from '../../helpers/trainable-layers.js';
import { assertSameTraining, eagerAndCompiled } from '../../helpers/compiled.js';

const BATCH = 4;
/** 4 epochs of 5 batches: 20 steps. */
const EPOCHS = 4;
const SAMPLES = 5 * BATCH;

/** Classes expected to fall back to eager, with the kernel that has no lowering. */
const FALLS_BACK: Record<string, RegExp> = { Conv3D: /kernel 'Conv3D' has no lowering/, Conv3DTranspose: /kernel 'Conv3D' has no lowering/ };

const outcome: Record<string, string> = {};

for (const name of trainableClasses()) {
  test(`${name}: 20 compiled steps equal 20 eager ones (History and weights within 1e-4)`, async (t) => {
    const shape = inputShapeOf(name);
    const xs = inputsFor(name, shape, SAMPLES);
    const y = tf.tensor2d(values(5, SAMPLES, -1, 1), [SAMPLES, 1]);
    const build = () => {
      const inputs = (isList(shape) ? shape : [shape]).map((s) => Input({ batch_input_shape: s }));
      let h = make(name).call(isList(shape) ? inputs : inputs[0]);
      if (h.shape.length > 2) h = L.Flatten().call(h);
      const model = new Model({ inputs: isList(shape) ? inputs : inputs[0], outputs: L.Dense({ units: 1 }).call(h) }).build(1);
      model.compile({ optimizer: SGD({ learning_rate: 0.05 }), loss: 'mse', metrics: ['mae'] }, 2);
      return model;
    };
    try {
      const { eager, compiled } = await eagerAndCompiled(build, (m) => m.fit(isList(shape) ? xs : xs[0], y, { batchSize: BATCH, epochs: EPOCHS, verbose: 0, shuffle: false }));
      outcome[name] = compiled.fellBack ?? 'compiled';
      t.diagnostic(outcome[name]);
      if (FALLS_BACK[name]) assert.match(compiled.fellBack ?? 'compiled', FALLS_BACK[name]);
      else assert.equal(compiled.fellBack, undefined, `${name} was expected to compile`);
      assertSameTraining(eager, compiled, name);
    } finally {
      tf.dispose([...xs, y]);
    }
  });
}

after(() => {
  console.log(`compiled: ${Object.keys(outcome).filter((n) => outcome[n] === 'compiled').join(', ')}`);
  console.log(`eager fallback: ${Object.entries(outcome).filter(([, o]) => o !== 'compiled').map(([n, o]) => `${n} (${o})`).join('; ')}`);
  compiledBackend().cache.clear();
});
