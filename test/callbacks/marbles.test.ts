import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { from, lastValueFrom, tap, toArray } from 'rxjs';
import { EarlyStopping, LambdaCallback, LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN } from '../../src/callbacks/index.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import type { FitEvent } from '../../src/training/events.js';
import { events, FakeControl, scheduler, trainWith } from './helpers.js';

/** epochEnd events a, b, c, ... one per frame-2 slot, with the given monitored values. */
function epochMarbles(ev: ReturnType<typeof events>, key: string, values: number[]) {
  const names = 'abcdefghij';
  const vals: Record<string, FitEvent> = {};
  values.forEach((v, i) => (vals[names[i]] = ev.epochEnd(i, { loss: 1, [key]: v })));
  return { marble: `${values.map((_, i) => `-${names[i]}`).join('')}|`, vals };
}

function runEarlyStopping(values: number[], options: Parameters<typeof EarlyStopping>[0], key = 'val_loss'): (string | number)[][] {
  const ts = scheduler();
  let calls: (string | number)[][] = [];
  ts.run(({ cold, expectObservable }) => {
    const control = new FakeControl(0.1, () => ts.now());
    const ev = events(control);
    const { marble, vals } = epochMarbles(ev, key, values);
    expectObservable(cold(marble, vals).pipe(EarlyStopping({ warn: () => {}, ...options }))).toBe(marble, vals); // passes every event on unchanged
    calls = control.calls;
  });
  return calls;
}

test('EarlyStopping stops when val_loss has not improved for `patience` epochs (frames 1,3,5,7: epochs 0..3)', () => {
  // 1.0, 0.9 improve; 0.95 and 0.92 do not: wait 1, then 2 = patience at epoch 3
  assert.deepEqual(runEarlyStopping([1.0, 0.9, 0.95, 0.92, 0.5], { patience: 2 }), [[7, 'stop']]);
  // patience 0 (the default): the first epoch without improvement stops, but never epoch 0
  assert.deepEqual(runEarlyStopping([1.0, 1.1, 0.5], {}), [[3, 'stop']]);
  assert.deepEqual(runEarlyStopping([1.0, 0.9, 0.8, 0.7], {}), []);
});

test('EarlyStopping minDelta: a change smaller than it is no improvement, whatever its sign', () => {
  assert.deepEqual(runEarlyStopping([1.0, 0.9995, 0.999], { minDelta: 0.001, patience: 2 }), [[5, 'stop']]);
  assert.deepEqual(runEarlyStopping([1.0, 0.9995, 0.999], { minDelta: -0.001, patience: 2 }), [[5, 'stop']]);
  assert.deepEqual(runEarlyStopping([1.0, 0.99, 0.98], { minDelta: 0.001, patience: 2 }), []);
});

test("EarlyStopping mode: 'auto' maximises names ending in acc/accuracy/auc, 'min'/'max' force the direction", () => {
  assert.deepEqual(runEarlyStopping([0.5, 0.6, 0.7], { monitor: 'val_accuracy' }, 'val_accuracy'), []);
  assert.deepEqual(runEarlyStopping([0.5, 0.4], { monitor: 'val_accuracy' }, 'val_accuracy'), [[3, 'stop']]);
  assert.deepEqual(runEarlyStopping([0.5, 0.6], { monitor: 'auc' }, 'auc'), []);
  assert.deepEqual(runEarlyStopping([0.5, 0.6], { monitor: 'val_loss', mode: 'max' }), []);
  assert.deepEqual(runEarlyStopping([0.5, 0.6], { monitor: 'val_accuracy', mode: 'min' }, 'val_accuracy'), [[3, 'stop']]);
  assert.throws(() => EarlyStopping({ mode: 'up' as never }), InvalidArgumentError);
  assert.throws(() => EarlyStopping({ patience: -1 }), InvalidArgumentError);
});

test('EarlyStopping baseline: improvements that do not beat it keep the wait counter running', () => {
  // without a baseline: 0.8 then no change twice: stops at epoch 2 with patience 2
  assert.deepEqual(runEarlyStopping([0.8, 0.8, 0.8], { patience: 2 }), [[5, 'stop']]);
  // with baseline 0.5: epoch 0 improves on +inf but not on 0.5, so wait is 1 after it; stops at epoch 1
  assert.deepEqual(runEarlyStopping([0.8, 0.8], { patience: 2, baseline: 0.5 }), [[3, 'stop']]);
  // beating the baseline resets the counter
  assert.deepEqual(runEarlyStopping([0.4, 0.4, 0.4], { patience: 2, baseline: 0.5 }), [[5, 'stop']]);
});

test('EarlyStopping startFromEpoch ignores the warm-up epochs; a missing monitor warns and is skipped', () => {
  assert.deepEqual(runEarlyStopping([1.0, 2.0, 3.0, 4.0], { startFromEpoch: 2 }), [[7, 'stop']]);
  assert.deepEqual(runEarlyStopping([1.0, 2.0, 3.0, 4.0], {}), [[3, 'stop'], [5, 'stop'], [7, 'stop']]); // (this fake loop does not stop)
  const warnings: string[] = [];
  assert.deepEqual(runEarlyStopping([1.0, 2.0, 3.0], { monitor: 'val_acc', warn: (w) => warnings.push(w) }), []);
  assert.equal(warnings.length, 3);
  assert.match(warnings[0], /val_acc.*not available.*loss,val_loss/);
});

test('EarlyStopping restoreBestWeights hands clones of the best epoch weights to setWeights, after the event has passed downstream', () => {
  const before = tf.memory().numTensors;
  const trains = [3, 1, 2, 4].map(trainWith); // val_loss = kernel value: best is epoch 1
  const control = new FakeControl();
  const ev = events(control);
  const seen: number[] = [];
  const stream = from([ev.fitStart(), ...trains.map((t, i) => ev.epochEnd(i, { val_loss: i === 0 ? 3 : i === 1 ? 1 : i === 2 ? 2 : 4 }, t)), ev.fitEnd()]);
  const lines: string[] = [];
  const out = stream.pipe(
    EarlyStopping({ patience: 2, restoreBestWeights: true, verbose: 1, print: (l) => lines.push(l) }),
    tap((e) => {
      if (e.type === 'epochEnd') {
        // downstream still sees this epoch's own, live weights
        seen.push(((e.train.params.dense as Record<string, tf.Tensor>).kernel).dataSync()[0]);
        control.mark(`seen ${e.epoch}`);
      }
    }),
  );
  return lastValueFrom(out.pipe(toArray())).then((all) => {
    assert.equal(all.length, 6);
    assert.deepEqual(seen, [3, 1, 2, 4]);
    assert.deepEqual(control.calls.map((c) => c[1]), ['seen 0', 'seen 1', 'seen 2', 'seen 3', 'stop', 'setWeights']);
    const restored = (control.weights!.params.dense as Record<string, tf.Tensor>).kernel;
    assert.equal(restored.dataSync()[0], 1);
    assert.notEqual(restored, (trains[1].params.dense as Record<string, tf.Tensor>).kernel, 'a clone, not the lent tensor');
    assert.deepEqual(lines, ['Restoring model weights from the end of the best epoch: 2.', 'Epoch 4: early stopping']);
    // the only tensors left: the four lent ones (the test's) and the restored clone (now the loop's)
    assert.equal(tf.memory().numTensors, before + 5);
    restored.dispose();
    trains.forEach((t) => tf.dispose((t.params.dense as Record<string, tf.Tensor>).kernel));
  });
});

test('EarlyStopping restoreBestWeights does not restore when training ends normally, and frees its copy', async () => {
  const before = tf.memory().numTensors;
  const trains = [3, 2, 1].map(trainWith);
  const control = new FakeControl();
  const ev = events(control);
  await lastValueFrom(from([ev.fitStart(3), ...trains.map((t, i) => ev.epochEnd(i, { val_loss: 3 - i }, t)), ev.fitEnd()]).pipe(EarlyStopping({ restoreBestWeights: true }), toArray()));
  assert.deepEqual(control.calls, []);
  assert.equal(tf.memory().numTensors, before + 3);
  trains.forEach((t) => tf.dispose((t.params.dense as Record<string, tf.Tensor>).kernel));
  assert.equal(tf.memory().numTensors, before);
});

test('ReduceLROnPlateau: factor, patience, cooldown and minLr; lr in the logs is the rate the epoch trained with', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable, flush }) => {
    const control = new FakeControl(0.1, () => ts.now());
    const ev = events(control);
    const losses = [1, 1, 1, 1, 1, 0.5];
    const { marble, vals } = epochMarbles(ev, 'val_loss', losses);
    const lrs = [0.1, 0.1, 0.05, 0.03, 0.03, 0.03];
    const expected: Record<string, FitEvent> = {};
    for (const [k, e] of Object.entries(vals)) {
      const i = 'abcdef'.indexOf(k);
      expected[k] = { ...e, logs: { ...(e as { logs: Record<string, number> }).logs, lr: lrs[i] } } as FitEvent;
    }
    const lines: string[] = [];
    const out = cold(marble, vals).pipe(
      ReduceLROnPlateau({ factor: 0.5, patience: 1, cooldown: 1, minLr: 0.03, verbose: 1, print: (l) => lines.push(l) }),
      tap((e) => control.mark(`seen ${(e as { epoch: number }).epoch}`)),
    );
    expectObservable(out).toBe(marble, expected);
    flush();
    // epoch 1: no improvement, patience 1: 0.1 -> 0.05 (after the event went downstream), then one epoch of cooldown;
    // epoch 2: cooldown ends, still no improvement: 0.05 * 0.5 = 0.025, clipped to minLr 0.03; epoch 3 and 4: at minLr, nothing
    assert.deepEqual(control.calls, [[1, 'seen 0'], [3, 'seen 1'], [3, 'lr', 0.05], [5, 'seen 2'], [5, 'lr', 0.03], [7, 'seen 3'], [9, 'seen 4'], [11, 'seen 5']]);
    assert.deepEqual(lines, ['Epoch 00002: ReduceLROnPlateau reducing learning rate to 0.05.', 'Epoch 00003: ReduceLROnPlateau reducing learning rate to 0.03.']);
  });
  assert.throws(() => ReduceLROnPlateau({ factor: 1 }), InvalidArgumentError);
});

test("ReduceLROnPlateau 'auto' maximises names containing 'acc'; minDelta defaults to 1e-4", () => {
  const ts = scheduler();
  ts.run(({ cold, flush }) => {
    const control = new FakeControl(0.1, () => ts.now());
    const ev = events(control);
    const { marble, vals } = epochMarbles(ev, 'acc', [0.5, 0.6, 0.60005, 0.7]);
    cold(marble, vals).pipe(ReduceLROnPlateau({ monitor: 'acc', patience: 1 })).subscribe();
    flush();
    // 0.6 -> 0.60005 is below minDelta: a plateau at epoch 2
    assert.deepEqual(control.calls, [[5, 'lr', 0.010000000000000002]]);
  });
});

test('LearningRateScheduler sets schedule(epoch, lr) at each epoch start and logs lr at each end', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable, flush }) => {
    const control = new FakeControl(0.1, () => ts.now());
    const ev = events(control);
    const vals = { s: ev.epochStart(0), e: ev.epochEnd(0, { loss: 1 }), t: ev.epochStart(1), f: ev.epochEnd(1, { loss: 1 }), u: ev.epochStart(2), g: ev.epochEnd(2, { loss: 1 }) };
    const withLr = (e: FitEvent, lr: number) => ({ ...e, logs: { ...(e as { logs: object }).logs, lr } }) as FitEvent;
    const lines: string[] = [];
    const out = cold('-s-e-t-f-u-g|', vals).pipe(LearningRateScheduler((epoch, lr) => (epoch < 1 ? lr : lr / 2), { verbose: 1, print: (l) => lines.push(l) }));
    expectObservable(out).toBe('-s-e-t-f-u-g|', { ...vals, e: withLr(vals.e, 0.1), f: withLr(vals.f, 0.05), g: withLr(vals.g, 0.025) });
    flush();
    assert.deepEqual(control.calls, [[1, 'lr', 0.1], [5, 'lr', 0.05], [9, 'lr', 0.025]]);
    assert.deepEqual(lines, ['Epoch 1: LearningRateScheduler setting learning rate to 0.1.', 'Epoch 2: LearningRateScheduler setting learning rate to 0.05.', 'Epoch 3: LearningRateScheduler setting learning rate to 0.025.']);
  });
});

test('LearningRateScheduler: a schedule that returns no finite number errors the stream', async () => {
  const control = new FakeControl();
  const ev = events(control);
  await assert.rejects(
    lastValueFrom(from([ev.fitStart(), ev.epochStart(0)]).pipe(LearningRateScheduler(() => NaN))),
    (e: Error) => e instanceof InvalidArgumentError && /schedule\(0, lr\)/.test(e.message),
  );
  assert.throws(() => LearningRateScheduler(0.1 as never), InvalidArgumentError);
});

test('TerminateOnNaN stops at the first batch whose loss is NaN or infinite', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const ts = scheduler();
    ts.run(({ cold, expectObservable, flush }) => {
      const control = new FakeControl(0.1, () => ts.now());
      const ev = events(control);
      const vals = { a: ev.batchEnd(0, 0, { loss: 0.5 }), b: ev.batchEnd(0, 1, { loss: 0.4 }), c: ev.batchEnd(0, 2, { loss: bad }), d: ev.epochEnd(0, { loss: bad }) };
      const lines: string[] = [];
      expectObservable(cold('-a-b-c-d|', vals).pipe(TerminateOnNaN({ print: (l) => lines.push(l) }))).toBe('-a-b-c-d|', vals);
      flush();
      assert.deepEqual(control.calls, [[5, 'stop']]);
      assert.deepEqual(lines, ['Batch 2: Invalid loss, terminating training']);
    });
  }
});

test('LambdaCallback calls each hook with Keras arguments, in stream order, before passing the event on', () => {
  const ts = scheduler();
  ts.run(({ cold, expectObservable, flush }) => {
    const control = new FakeControl(0.1, () => ts.now());
    const ev = events(control);
    const vals = { a: ev.fitStart(1, 1), b: ev.epochStart(0), c: ev.batchEnd(0, 0, { loss: 2 }), d: ev.epochEnd(0, { loss: 2 }), e: ev.fitEnd({ loss: 2 }) };
    const calls: unknown[] = [];
    const cb = LambdaCallback({
      onTrainBegin: (logs) => calls.push([ts.now(), 'trainBegin', logs]),
      onEpochBegin: (epoch, logs) => calls.push([ts.now(), 'epochBegin', epoch, logs]),
      onBatchEnd: (batch, logs) => calls.push([ts.now(), 'batchEnd', batch, logs]),
      onEpochEnd: (epoch, logs, e) => calls.push([ts.now(), 'epochEnd', epoch, logs, e.train === (vals.d as { train: unknown }).train]),
      onTrainEnd: (logs) => calls.push([ts.now(), 'trainEnd', logs]),
    });
    expectObservable(cold('a-b-c-d-e|', vals).pipe(cb, tap(() => calls.push('downstream')))).toBe('a-b-c-d-e|', vals);
    flush();
    assert.deepEqual(calls, [
      [0, 'trainBegin', {}], 'downstream',
      [2, 'epochBegin', 0, {}], 'downstream',
      [4, 'batchEnd', 0, { loss: 2 }], 'downstream',
      [6, 'epochEnd', 0, { loss: 2 }, true], 'downstream',
      [8, 'trainEnd', { loss: 2 }], 'downstream',
    ]);
  });
});

test('LambdaCallback: a hook that throws errors the stream with its error', () => {
  scheduler().run(({ cold, expectObservable }) => {
    const control = new FakeControl();
    const ev = events(control);
    const boom = new Error('hook failed');
    const vals = { a: ev.epochStart(0), b: ev.epochStart(1) };
    const cb = LambdaCallback({ onEpochBegin: (epoch) => { if (epoch === 1) throw boom; } });
    expectObservable(cold('a-b-a|', vals).pipe(cb)).toBe('a-#', vals, boom);
  });
});
