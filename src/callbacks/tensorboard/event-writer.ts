import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Event } from './event-proto.js';
import { tfRecord } from './record.js';
import type { SummaryValue } from './summary-values.js';

let fileCount = 0;

/**
 * An event file in `dir`, as TensorFlow's summary writer names and starts
 * it (`events.out.tfevents.<seconds>.<host>.<pid>.<n>.v2`, a first event
 * with `file_version: brain.Event:2`). Each event is one TFRecord, written
 * through to the file at once, so TensorBoard sees it while training runs.
 */
export class EventWriter {
  readonly file: string;
  private fd: number | undefined;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    const now = Date.now() / 1000;
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(now)}.${os.hostname()}.${process.pid}.${fileCount++}.v2`);
    this.fd = fs.openSync(this.file, 'wx');
    this.append({ wall_time: now, step: 0, file_version: 'brain.Event:2' });
  }

  /** Writes the values as one summary event at `step`. */
  write(step: number, values: SummaryValue[]): void {
    if (values.length > 0) this.append({ wall_time: Date.now() / 1000, step, summary: { value: values } });
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private append(event: Record<string, unknown>): void {
    if (this.fd === undefined) throw new Error(`event file ${this.file} is closed`);
    fs.writeSync(this.fd, tfRecord(Event.encode(Event.fromObject(event)).finish()));
  }
}
