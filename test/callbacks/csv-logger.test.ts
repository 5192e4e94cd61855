import { backendReady } from '../helpers/backend.js';
await backendReady;
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { from, lastValueFrom, toArray, concat, throwError } from 'rxjs';
import { CSVLogger } from '../../src/callbacks/index.js';
import type { FitEvent } from '../../src/training/events.js';
import type { Logs } from '../../src/training/types.js';
import { events, FakeControl } from './helpers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-csv-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

function fitOf(logs: Logs[], firstEpoch = 0): FitEvent[] {
  const ev = events(new FakeControl());
  return [ev.fitStart(logs.length), ...logs.flatMap((l, i) => [ev.epochStart(firstEpoch + i), ev.epochEnd(firstEpoch + i, l)]), ev.fitEnd()];
}

const openFds = () => (fs.existsSync('/proc/self/fd') ? fs.readdirSync('/proc/self/fd').length : 0);

test('CSVLogger writes Keras rows: epoch, then sorted log keys; Python float repr; \\r\\n; NA for a missing value', async () => {
  const file = path.join(dir, 'log.csv');
  const fds = openFds();
  await lastValueFrom(from(fitOf([{ val_loss: 0.5, loss: 1, accuracy: 0.25 }, { val_loss: NaN, loss: 1e-5 }])).pipe(CSVLogger(file), toArray()));
  assert.equal(fs.readFileSync(file, 'utf8'), 'epoch,accuracy,loss,val_loss\r\n0,0.25,1.0,0.5\r\n1,NA,1e-05,nan\r\n');
  assert.ok(openFds() <= fds, 'the file is closed when the stream completes'); // other fds may close meanwhile (worker threads); none may stay open
});

test('CSVLogger separator, quoting of odd keys, and overwrite without append', async () => {
  const file = path.join(dir, 'sep.csv');
  fs.writeFileSync(file, 'old contents\n');
  await lastValueFrom(from(fitOf([{ 'a;b': 1, loss: 2 }])).pipe(CSVLogger(file, { separator: ';' }), toArray()));
  assert.equal(fs.readFileSync(file, 'utf8'), 'epoch;"a;b";loss\r\n0;1.0;2.0\r\n');
});

test('CSVLogger append: no second header; rows follow the existing columns; a torn last row is ended first', async () => {
  const file = path.join(dir, 'append.csv');
  await lastValueFrom(from(fitOf([{ loss: 1, val_loss: 2 }])).pipe(CSVLogger(file, { append: true }), toArray()));
  await lastValueFrom(from(fitOf([{ loss: 0.5, val_loss: 1.5 }], 1)).pipe(CSVLogger(file, { append: true }), toArray()));
  assert.equal(fs.readFileSync(file, 'utf8'), 'epoch,loss,val_loss\r\n0,1.0,2.0\r\n1,0.5,1.5\r\n');
  // an interrupted run left half a row; the next run's logs lack val_loss and add lr
  fs.appendFileSync(file, '2,0.4');
  const warnings: string[] = [];
  await lastValueFrom(from(fitOf([{ loss: 0.25, lr: 0.01 }], 3)).pipe(CSVLogger(file, { append: true, warn: (w) => warnings.push(w) }), toArray()));
  assert.equal(fs.readFileSync(file, 'utf8'), 'epoch,loss,val_loss\r\n0,1.0,2.0\r\n1,0.5,1.5\r\n2,0.4\r\n3,0.25,NA\r\n');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /no column for lr/);
  // appending to a new (or empty) file writes the header
  const fresh = path.join(dir, 'fresh.csv');
  fs.writeFileSync(fresh, '');
  await lastValueFrom(from(fitOf([{ loss: 1 }])).pipe(CSVLogger(fresh, { append: true }), toArray()));
  assert.equal(fs.readFileSync(fresh, 'utf8'), 'epoch,loss\r\n0,1.0\r\n');
});

test('CSVLogger keeps the rows written before an error, and closes the file', async () => {
  const file = path.join(dir, 'error.csv');
  const fds = openFds();
  const events = fitOf([{ loss: 1 }, { loss: 2 }]).slice(0, 5); // fitStart, two epochs, no fitEnd
  await assert.rejects(lastValueFrom(concat(from(events), throwError(() => new Error('source failed'))).pipe(CSVLogger(file))), /source failed/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'epoch,loss\r\n0,1.0\r\n1,2.0\r\n');
  assert.ok(openFds() <= fds, 'the file is closed after the error');
});
