import type { Logs } from '../training/types.js';

/** What a browser is told about the run so far (the `snapshot` event) and then event by event. */
export interface RunState {
  status: 'waiting' | 'training' | 'done' | 'stopped' | 'failed';
  error?: string;
  params?: { epochs: number; initialEpoch: number; steps?: number; samples?: number; batchSize?: number; metrics: string[] };
  summary?: string;
  /** The epoch running and its last batch (progress). */
  epoch?: number;
  batch?: number;
  /** Per-batch logs; thinned to every `stride`-th step once `maxBatchPoints` is reached. */
  batches: { step: number; epoch: number; batch: number; logs: Logs }[];
  stride: number;
  epochs: { epoch: number; logs: Logs }[];
}

export interface HubOptions {
  /** Per-batch points kept for late browsers (thinned beyond). */
  maxBatchPoints: number;
  /** Bytes a browser may have unsent before its per-batch updates are conflated (only the latest kept). */
  softLimit: number;
  /** Bytes a browser may have unsent at all; beyond, it is disconnected (its EventSource reconnects and gets a snapshot). */
  hardLimit: number;
}

/** Where a browser's events go: the HTTP response (any Writable will do). */
export type EventSink = Pick<NodeJS.WritableStream, 'write' | 'end' | 'on'> & { readonly writableLength: number; destroy(): void };

interface Client {
  res: EventSink;
  /** The latest per-batch update it could not take yet (conflated). */
  pending: string | undefined;
  dropped: number;
}

/**
 * The fan-out from one training run to any number of browsers over
 * server-sent events. Publishing never waits: a browser that reads slowly
 * gets only the latest per-batch update once it catches up (the others are
 * dropped for it), and one that falls too far behind is cut off. Memory is
 * bounded by the two limits per browser and by `maxBatchPoints`.
 */
export class DashboardHub {
  private state: RunState = freshState();
  private readonly clients = new Set<Client>();
  private step = 0;

  constructor(private readonly options: HubOptions) {}

  /** A new run: clears the history and sends every browser a fresh snapshot. */
  start(params: RunState['params'], summary: string | undefined): void {
    this.state = { ...freshState(), status: 'training', params, summary };
    this.step = 0;
    this.broadcast('snapshot', this.state, true);
  }

  epochStart(epoch: number): void {
    this.state.epoch = epoch;
    this.state.batch = undefined;
    this.broadcast('epochStart', { epoch }, true);
  }

  batchEnd(epoch: number, batch: number, logs: Logs): void {
    const point = { step: this.step++, epoch, batch, logs: { ...logs } };
    this.state.batch = batch;
    const s = this.state;
    if (point.step % s.stride === 0) {
      s.batches.push(point);
      if (s.batches.length > this.options.maxBatchPoints) {
        s.stride *= 2;
        s.batches = s.batches.filter((p) => p.step % s.stride === 0);
      }
    }
    this.broadcast('batch', point, false);
  }

  epochEnd(epoch: number, logs: Logs): void {
    const entry = { epoch, logs: { ...logs } };
    this.state.epochs.push(entry);
    this.broadcast('epoch', entry, true);
  }

  end(status: 'done' | 'stopped' | 'failed', error?: string): void {
    this.state.status = status;
    this.state.error = error;
    this.broadcast('end', { status, error }, true);
  }

  /** A browser connects (its response headers sent): it gets the run so far, then every update. */
  attach(res: EventSink): void {
    const client: Client = { res, pending: undefined, dropped: 0 };
    this.clients.add(client);
    res.on('drain', () => {
      if (client.pending !== undefined && res.writableLength < this.options.softLimit) {
        const text = client.pending;
        client.pending = undefined;
        res.write(text);
      }
    });
    res.on('close', () => this.clients.delete(client));
    res.write(`retry: 1000\n${frame('snapshot', this.state)}`);
  }

  /** Per browser: bytes not yet sent and updates dropped for it. */
  stats(): { buffered: number; dropped: number }[] {
    return [...this.clients].map((c) => ({ buffered: c.res.writableLength, dropped: c.dropped }));
  }

  closeAll(): void {
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  private broadcast(event: string, data: unknown, essential: boolean): void {
    const text = frame(event, data);
    for (const client of this.clients) {
      const behind = client.res.writableLength;
      if (behind >= this.options.hardLimit) {
        client.res.destroy();
        this.clients.delete(client);
      } else if (!essential && behind >= this.options.softLimit) {
        if (client.pending !== undefined) client.dropped++;
        client.pending = text;
      } else {
        // An essential update supersedes the conflated batch update it follows: send that first to keep the order.
        if (client.pending !== undefined) client.res.write(client.pending);
        client.pending = undefined;
        client.res.write(text);
      }
    }
  }
}

function freshState(): RunState {
  return { status: 'waiting', batches: [], stride: 1, epochs: [] };
}

/** One server-sent event. NaN and Infinity (a diverging loss) go as null, which the page draws as a gap. */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
