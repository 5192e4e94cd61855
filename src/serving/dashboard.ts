import fs from 'node:fs';
import { createRequire } from 'node:module';
import Fastify from 'fastify';
import { finalize, tap } from 'rxjs';
import { InvalidArgumentError } from '../core/errors.js';
import type { Callback, FitEvent } from '../training/events.js';
import { DashboardHub } from './dashboard-hub.js';
import { DASHBOARD_PAGE } from './dashboard-page.js';

export interface DashboardOptions {
  /** 6006 (TensorBoard's port) unless given; 0 picks a free port. */
  port?: number;
  /** 127.0.0.1 unless given. */
  host?: string;
  /** A model whose `summary()` the page shows (a Keras `Model`). */
  model?: { summary(print?: (line: string) => void): string };
  /** Per-batch points kept for browsers that connect late (thinned beyond); 5,000 unless given. */
  maxBatchPoints?: number;
  /** Unsent bytes after which a browser's per-batch updates are conflated; 64 KiB unless given. */
  softLimit?: number;
  /** Unsent bytes after which a browser is disconnected (it reconnects and gets a snapshot); 1 MiB unless given. */
  hardLimit?: number;
}

/** The dashboard callback, with where it listens and how to stop it. */
export type DashboardCallback = Callback & {
  /** The page's address, once the server listens. */
  readonly url: Promise<string>;
  /** Per connected browser: bytes not yet sent, updates dropped for it. */
  stats(): { buffered: number; dropped: number }[];
  /** Disconnects the browsers and stops the server. */
  close(): Promise<void>;
};

const require = createRequire(import.meta.url);
const UPLOT_FILES: Record<string, [string, string]> = {
  '/uPlot.iife.min.js': ['uplot/dist/uPlot.iife.min.js', 'application/javascript; charset=utf-8'],
  '/uPlot.min.css': ['uplot/dist/uPlot.min.css', 'text/css; charset=utf-8'],
};

/**
 * A live training dashboard as a callback: it serves a small page (charts
 * drawn with uPlot) and streams the training events to every browser that
 * opens it, as server-sent events: loss and metrics per batch and per epoch
 * with their validation curves, epoch progress, the model's summary. A
 * browser that connects late gets the run so far. Training never waits for a
 * browser (see DashboardHub). The server starts at once and keeps running
 * (showing the last run) until `close()`; one dashboard can watch several
 * `fit` calls in turn.
 *
 *     const dash = dashboard({ port: 6006, model });
 *     console.log(`dashboard: ${await dash.url}`);
 *     await model.fit(x, y, { epochs: 10, callbacks: [dash] });
 *     await dash.close();
 */
export function dashboard(options: DashboardOptions = {}): DashboardCallback {
  const limit = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`dashboard ${name}`, 'a whole number >= 1', v);
    return v;
  };
  const hub = new DashboardHub({
    maxBatchPoints: limit('maxBatchPoints', options.maxBatchPoints ?? 5000),
    softLimit: limit('softLimit', options.softLimit ?? 64 * 1024),
    hardLimit: limit('hardLimit', options.hardLimit ?? 1024 * 1024),
  });
  const app = Fastify({ forceCloseConnections: true });
  app.get('/', (_request, reply) => reply.type('text/html; charset=utf-8').send(DASHBOARD_PAGE));
  for (const [route, [file, type]] of Object.entries(UPLOT_FILES)) app.get(route, (_request, reply) => reply.type(type).send(fs.createReadStream(require.resolve(file))));
  app.get('/events', (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    hub.attach(reply.raw);
  });
  const host = options.host ?? '127.0.0.1';
  const url = app.listen({ host, port: options.port ?? 6006 }).then(() => `http://${host}:${(app.server.address() as { port: number }).port}/`);
  url.catch(() => {}); // reported to whoever awaits `url`

  const onEvent = (e: FitEvent) => {
    if (e.type === 'fitStart') hub.start(e.params, options.model?.summary(() => {}));
    else if (e.type === 'epochStart') hub.epochStart(e.epoch);
    else if (e.type === 'batchEnd') hub.batchEnd(e.epoch, e.batch, e.logs);
    else if (e.type === 'epochEnd') hub.epochEnd(e.epoch, e.logs);
    else hub.end('done');
  };
  let ended = false;
  const callback: Callback = (source) =>
    source.pipe(
      tap({
        subscribe: () => (ended = false),
        next: (e) => {
          onEvent(e);
          if (e.type === 'fitEnd') ended = true;
        },
        error: (error: unknown) => {
          ended = true;
          hub.end('failed', error instanceof Error ? error.message : String(error));
        },
      }),
      finalize(() => ended || hub.end('stopped')),
    );
  return Object.assign(callback, {
    url,
    stats: () => hub.stats(),
    close: async () => {
      hub.closeAll();
      await app.close();
    },
  });
}
