/**
 * Compiled training keeps Keras semantics: every optimizer, with weight
 * regularisation, dropout, class weights and validation; a frozen layer;
 * masks; a learning rate set by a callback between steps (no retrace).
 * History and weights equal eager ones within 1e-4. A kernel without a
 * lowering falls back to eager and says so once; tensors and sessions are
 * freed after fit, on error and on unsubscribe.
 */
import { backendReady } from '../../helpers/backend.js';
await backendReady;

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as L from '../../../src/layers/index.js';
import { Input } from '../../../src/layers/input-layer.js';
import { registerLambda, unregisterLambda } from '../../../src/layers/lambda.js';
import { Model } from '../../../src/models/model.js';
import { Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop, SGD, type Optimizer } from '../../../src/optimizers/index.js';
import { LambdaCallback, LearningRateScheduler } from '../../../src/callbacks/index.js';
import { compiledBackend, enableCompiledSteps } from '../../../src/ops/compiled/index.js';
import { ortAddon } from '../../../src/ops/onnx/native-session.js';
import { values } from '../../helpers/trainable-layers.js';
import { assertSameTraining, eagerAndCompiled } from '../../helpers/compiled.js';
import { captureStderr } from '../../helpers/stderr.js';

const N = 24;
const x = tf.tensor2d(values(3, N * 6, -1, 1), [N, 6]);
const labels = tf.tensor1d(values(4, N, 0, 3).map(Math.floor), 'int32');
const y = tf.cast(tf.oneHot(labels, 3), 'float32');

/** 6 -> Dense(8, relu, L2) -> Dropout -> Dense(3, softmax); seeded, so eager and compiled start alike. */
function mlp(optimizer: () => Optimizer, { frozen = false } = {}): () => Model {
  return () => {
    const input = Input({ batch_input_shape: [null, 6] });
    const hidden = L.Dense({ units: 8, activation: 'relu', kernel_regularizer: { class_name: 'L2', config: { l2: 0.01 } }, trainable: !frozen, name: 'hidden' });
    const out = L.Dense({ units: 3, activation: 'softmax', name: 'out' }).call(L.Dropout({ rate: 0.3, name: 'drop' }).call(hidden.call(input)));
    const model = new Model({ inputs: input, outputs: out }).build(1);
    model.compile({ optimizer: optimizer(), loss: 'categorical_crossentropy', metrics: ['accuracy'] }, 2);
    return model;
  };
}

/** 4 epochs of 4 batches of 5 (the last one partial: its own graph) with 4 samples held out: 16 steps. */
const fitArgs = { batchSize: 5, epochs: 4, verbose: 0 as const, validationSplit: 1 / 6, classWeight: { 0: 1, 1: 2, 2: 0.5 } };

const optimizers: [string, () => Optimizer][] = [
  ['SGD', () => SGD({ learning_rate: 0.1 })],
  ['SGD momentum nesterov', () => SGD({ learning_rate: 0.1, momentum: 0.9, nesterov: true })],
  ['RMSprop', () => RMSprop()],
  ['RMSprop centered momentum', () => RMSprop({ centered: true, momentum: 0.5 })],
  ['Adam', () => Adam()],
  ['Adam amsgrad', () => Adam({ amsgrad: true })],
  ['Adagrad', () => Adagrad({ learning_rate: 0.1 })],
  ['Adadelta', () => Adadelta({ learning_rate: 1 })],
  ['Adamax', () => Adamax()],
  ['Nadam', () => Nadam()],
];

describe('compiled training equals eager training', () => {
  for (const [name, optimizer] of optimizers)
    it(`${name}, L2 penalty, dropout, class weights, validation`, async () => {
      const { eager, compiled } = await eagerAndCompiled(mlp(optimizer), (m) => m.fit(x, y, fitArgs));
      assert.equal(compiled.fellBack, undefined);
      assertSameTraining(eager, compiled, name);
    });

  it('a frozen layer stays as it was', async () => {
    const { eager, compiled } = await eagerAndCompiled(mlp(() => Adam(), { frozen: true }), (m) => m.fit(x, y, fitArgs));
    assert.equal(compiled.fellBack, undefined);
    assertSameTraining(eager, compiled, 'frozen');
  });

  it('masks: Embedding(mask_zero) -> LSTM', async () => {
    const ids = tf.tensor2d(values(9, N * 5, 0, 4).map(Math.floor), [N, 5], 'int32');
    const build = () => {
      const input = Input({ batch_input_shape: [null, 5], dtype: 'int32' });
      const h = L.LSTM({ units: 4, name: 'lstm' }).call(L.Embedding({ input_dim: 4, output_dim: 3, mask_zero: true, name: 'embed' }).call(input));
      const model = new Model({ inputs: input, outputs: L.Dense({ units: 3, activation: 'softmax', name: 'out' }).call(h) }).build(1);
      model.compile({ optimizer: Adam({ learning_rate: 0.01 }), loss: 'categorical_crossentropy' }, 2);
      return model;
    };
    try {
      const { eager, compiled } = await eagerAndCompiled(build, (m) => m.fit(ids, y, { batchSize: 6, epochs: 5, verbose: 0 }));
      assert.equal(compiled.fellBack, undefined);
      assertSameTraining(eager, compiled, 'masked LSTM');
    } finally {
      ids.dispose();
    }
  });

  it('a learning rate set by a callback between steps needs no retrace', async () => {
    const compiles: number[] = [];
    const callbacks = [
      LearningRateScheduler((epoch) => 0.01 / (epoch + 1)),
      LambdaCallback({ onEpochEnd: () => compiles.push(compiledBackend().cache.compiles) }),
    ];
    const { eager, compiled } = await eagerAndCompiled(mlp(() => Adam()), (m) => m.fit(x, y, { ...fitArgs, callbacks }));
    assertSameTraining(eager, compiled, 'scheduled learning rate');
    // compiles[0..3] are the eager run's (nothing compiles), then the compiled run's four epochs.
    const run = compiles.slice(4);
    assert.ok(run[3] === run[2], `a compile in the last epoch (compiles after each epoch: ${run.join(', ')})`);
  });
});

describe('fallback and resources', () => {
  it('a model with a kernel that has no lowering falls back to eager, says so once, and trains the same', async () => {
    registerLambda('running_sum', (t) => tf.cumsum(t as tf.Tensor, 1), { outputShape: (s) => s });
    let lines: string[];
    try {
      const build = () => {
        const input = Input({ batch_input_shape: [null, 6] });
        const h = L.Lambda({ function: 'running_sum', name: 'sum' } as never).call(input);
        const model = new Model({ inputs: input, outputs: L.Dense({ units: 3, activation: 'softmax', name: 'out' }).call(h) }).build(1);
        model.compile({ optimizer: SGD({ learning_rate: 0.1 }), loss: 'categorical_crossentropy' }, 2);
        return model;
      };
      lines = await captureStderr(async () => {
        const { eager, compiled } = await eagerAndCompiled(build, (m) => m.fit(x, y, { batchSize: 8, epochs: 2, verbose: 0 }));
        assert.match(compiled.fellBack ?? '', /kernel 'Cumsum' has no lowering/);
        assertSameTraining(eager, compiled, 'fallback');
      });
    } finally {
      unregisterLambda('running_sum');
    }
    const said = lines.filter((l) => /runs eagerly: kernel 'Cumsum' has no lowering/.test(l));
    assert.equal(said.length, 1, `stderr: ${lines.join('')}`);
  });

  it('tensors and sessions are freed after fit, after a failed fit, and after unsubscribing', async () => {
    enableCompiledSteps(true);
    try {
      const model = mlp(() => Adam())();
      await model.fit(x, y, fitArgs);
      // The optimizer state made by the first fit persists across fits, as in Keras.
      const baseline = tf.memory().numTensors;
      // With rxkeras's ONNX Runtime addon, its count of native sessions too.
      const addon = ortAddon();
      const native = () => (typeof addon === 'string' ? 0 : addon.liveSessions());
      const nativeBaseline = native();
      await model.fit(x, y, fitArgs);
      assert.equal(compiledBackend().cache.size, 0, 'sessions after fit');
      assert.equal(native(), nativeBaseline, 'native sessions after fit');
      assert.equal(tf.memory().numTensors, baseline, 'tensors after fit');

      const wrong = tf.zeros([N, 4]);
      await assert.rejects(model.fit(x, wrong, fitArgs), /could not be broadcast/);
      wrong.dispose();
      assert.equal(compiledBackend().cache.size, 0, 'sessions after a failed fit');
      assert.equal(native(), nativeBaseline, 'native sessions after a failed fit');
      assert.equal(tf.memory().numTensors, baseline, 'tensors after a failed fit');

      await new Promise<void>((resolve, reject) => {
        const sub = model.fit$(x, y, fitArgs).subscribe({
          next: (e) => {
            if (e.type === 'batchEnd' && e.batch === 1) {
              sub.unsubscribe();
              setTimeout(resolve, 50);
            }
          },
          error: reject,
        });
      });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(compiledBackend().cache.size, 0, 'sessions after unsubscribing');
      assert.equal(native(), nativeBaseline, 'native sessions after unsubscribing');
      assert.equal(tf.memory().numTensors, baseline, 'tensors after unsubscribing');
      model.dispose();
    } finally {
      enableCompiledSteps(false);
    }
  });
});
