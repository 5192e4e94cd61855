import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, map, tap, toArray } from 'rxjs';
import { progbar } from '../../src/callbacks/index.js';
import type { FitEvent } from '../../src/training/events.js';
import { events, FakeControl, FakeStream } from './helpers.js';

/** Runs timed events [ms, event] through a progbar whose clock reads those times; returns what it printed. */
async function printed(timed: [number, FitEvent][], options: { verbose: 0 | 1 | 2; tty?: boolean }): Promise<string> {
  const stream = new FakeStream(options.tty ?? false);
  let clock = 0;
  await lastValueFrom(
    from(timed).pipe(
      tap(([t]) => (clock = t)),
      map(([, e]) => e),
      progbar({ verbose: options.verbose, stream, now: () => clock }),
      toArray(),
    ),
  );
  return stream.text;
}

const logs = { loss: 0.123456, accuracy: 0.5, neg: -0.5, val_loss: 0.0005 };

/** Two epochs of 4 batches: batches at 10, 20, 70, 80 ms after the epoch starts, the epoch ends at 1500 ms. */
function twoEpochs(steps: number | undefined = 4): [number, FitEvent][] {
  const ev = events(new FakeControl());
  const out: [number, FitEvent][] = [[0, ev.fitStart(2, steps)]];
  for (const epoch of [0, 1]) {
    const t0 = epoch * 2000;
    out.push([t0, ev.epochStart(epoch)]);
    [10, 20, 70, 80].forEach((t, b) => out.push([t0 + t, ev.batchEnd(epoch, b, { loss: 0.2 + b / 100, accuracy: 0.25 * b })]));
    out.push([t0 + 1500, ev.epochEnd(epoch, logs)]);
  }
  out.push([4000, ev.fitEnd(logs)]);
  return out;
}

test('verbose 1 off a terminal: "Epoch i/n", then only the final bar line of each epoch, as tf.keras 2 prints it', async () => {
  // 1.5 s rounds to 2 (Python rounds half to even); per step: (1500 - 10) ms / 3 steps after the first = 497 ms
  const line = '4/4 [==============================] - 2s 497ms/step - loss: 0.1235 - accuracy: 0.5000 - neg: -0.5000 - val_loss: 5.0000e-04\n';
  assert.equal(await printed(twoEpochs(), { verbose: 1 }), `Epoch 1/2\n${line}Epoch 2/2\n${line}`);
});

test('verbose 2: one line per epoch with time per epoch and per step; small and negative values in %.4e', async () => {
  const line = '4/4 - 2s - loss: 0.1235 - accuracy: 0.5000 - neg: -5.0000e-01 - val_loss: 5.0000e-04 - 2s/epoch - 375ms/step\n';
  assert.equal(await printed(twoEpochs(), { verbose: 2 }), `Epoch 1/2\n${line}Epoch 2/2\n${line}`);
});

test('verbose 0 prints nothing; a single epoch has no "Epoch 1/1" header', async () => {
  assert.equal(await printed(twoEpochs(), { verbose: 0 }), '');
  const ev = events(new FakeControl());
  const one: [number, FitEvent][] = [[0, ev.fitStart(1, 1)], [0, ev.epochStart(0)], [5, ev.batchEnd(0, 0, { loss: 1 })], [5, ev.epochEnd(0, { loss: 1 })], [5, ev.fitEnd()]];
  assert.equal(await printed(one, { verbose: 2 }), '1/1 - 0s - loss: 1.0000 - 5ms/epoch - 5ms/step\n');
});

test('verbose 1 with an unknown number of steps shows the batches seen as the target', async () => {
  const text = await printed(twoEpochs(undefined), { verbose: 1 });
  assert.equal(text.split('\n')[1], '4/4 [==============================] - 2s 497ms/step - loss: 0.1235 - accuracy: 0.5000 - neg: -0.5000 - val_loss: 5.0000e-04');
});

test('verbose 1 on a terminal draws a live bar (cli-progress) with the Keras text, then the final line', async () => {
  const text = await printed(twoEpochs(), { verbose: 1, tty: true });
  const epoch1 = text.slice(0, text.indexOf('Epoch 2/2'));
  assert.ok(epoch1.startsWith('Epoch 1/2\n'), JSON.stringify(epoch1));
  // cli-progress throttles redraws in real time, so a fast run shows at least the last batch's live line, in Keras's text.
  assert.ok(epoch1.includes('4/4 [==============================] - ETA: 0s - loss: 0.2300 - accuracy: 0.7500'), JSON.stringify(epoch1));
  // The live line is cleared, then the final line printed on its own.
  const final = '4/4 [==============================] - 2s 497ms/step - loss: 0.1235 - accuracy: 0.5000 - neg: -0.5000 - val_loss: 5.0000e-04';
  assert.ok(epoch1.endsWith(`${final}\n`), JSON.stringify(epoch1));
  assert.ok(epoch1.indexOf('ETA: 0s') < epoch1.lastIndexOf(final));
});
