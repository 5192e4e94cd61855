import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { DashboardHub } from '../../src/serving/index.js';

/** A real Writable whose reader stalls until `release()`; it records what it was given. */
function browser() {
  const received: string[] = [];
  let stalled: (() => void)[] | undefined = [];
  const sink = new Writable({
    highWaterMark: 1024,
    write(chunk, _enc, done) {
      received.push(String(chunk));
      if (stalled) stalled.push(done);
      else done();
    },
  });
  return {
    sink,
    received,
    events: () => received.join('').split('\n\n').filter(Boolean).map((f) => f.match(/event: (\w+)/)![1]),
    release: () => {
      const waiting = stalled ?? [];
      stalled = undefined;
      waiting.forEach((done) => done());
    },
  };
}

const params = { epochs: 2, initialEpoch: 0, steps: 100, samples: 3200, batchSize: 32, metrics: ['loss'] };

test('DashboardHub: a stalled browser never holds training up; its batch updates are conflated, its epoch updates kept in order, its buffer bounded', () => {
  const hub = new DashboardHub({ maxBatchPoints: 1000, softLimit: 2048, hardLimit: 1 << 20 });
  const slow = browser();
  const fast = browser();
  fast.release();
  hub.attach(slow.sink);
  hub.attach(fast.sink);
  hub.start(params, 'summary');
  let maxBuffered = 0;
  for (let epoch = 0; epoch < 2; epoch++) {
    hub.epochStart(epoch);
    for (let b = 0; b < 100; b++) {
      hub.batchEnd(epoch, b, { loss: 1 / (b + 1), accuracy: b / 100 });
      maxBuffered = Math.max(maxBuffered, ...hub.stats().map((s) => s.buffered));
    }
    hub.epochEnd(epoch, { loss: 0.5 - epoch / 10 });
  }
  hub.end('done');
  // The fast browser got every update.
  assert.equal(fast.events().filter((e) => e === 'batch').length, 200);
  const [slowStats] = hub.stats();
  assert.ok(slowStats.dropped > 150, `most batch updates were dropped for the stalled browser (${slowStats.dropped})`);
  assert.ok(maxBuffered < 2048 + 2 * 600, `buffered at most the soft limit plus a few essential updates (${maxBuffered})`);
  slow.release();
  const events = slow.events();
  assert.deepEqual(events.filter((e) => e !== 'batch'), ['snapshot', 'snapshot', 'epochStart', 'epoch', 'epochStart', 'epoch', 'end']);
  assert.ok(events.filter((e) => e === 'batch').length < 50);
});

test('DashboardHub: a browser past the hard limit is cut off (its EventSource reconnects for a snapshot); a late one gets the history, thinned past maxBatchPoints', () => {
  const hub = new DashboardHub({ maxBatchPoints: 64, softLimit: 256, hardLimit: 4096 });
  const stuck = browser();
  hub.attach(stuck.sink);
  hub.start(params, undefined);
  const wide = Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`metric_${k}`, k]));
  let epochs = 0;
  while (!stuck.sink.destroyed && epochs < 100) hub.epochEnd(epochs++, wide);
  assert.ok(stuck.sink.destroyed && epochs < 10, `cut off once more than hardLimit bytes behind (after ${epochs} epochs)`);
  assert.equal(hub.stats().length, 0);

  for (let b = 0; b < 300; b++) hub.batchEnd(3, b, { loss: b });
  const late = browser();
  late.release();
  hub.attach(late.sink);
  const snapshot = JSON.parse(late.received.join('').split('data: ')[1].split('\n')[0]);
  assert.ok(snapshot.batches.length <= 64 && snapshot.batches.length >= 32, `thinned history (${snapshot.batches.length} points)`);
  assert.equal(snapshot.stride, 8);
  assert.ok(snapshot.batches.every((p: { step: number }) => p.step % 8 === 0));
  assert.equal(snapshot.epochs.length, epochs);
});
