import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServableObserver } from './servable.js';

/**
 * A server's metrics in Prometheus's text format (prom-client), in a
 * registry of its own so that several servers in one process do not share
 * counters: requests by model and status code, request latency, rows per
 * batch, batch compute time, and requests waiting for a batch.
 */
export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'rxkeras_serving_requests_total',
    help: 'Predict requests answered, by model and HTTP status code',
    labelNames: ['model', 'code'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'rxkeras_serving_request_duration_seconds',
    help: 'Time from a predict request being read to its answer being sent',
    labelNames: ['model'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly batchRows = new Histogram({
    name: 'rxkeras_serving_batch_size',
    help: 'Rows in each batch given to the model',
    labelNames: ['model', 'version'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });
  private readonly batchSeconds = new Histogram({
    name: 'rxkeras_serving_batch_duration_seconds',
    help: 'Time the model took for each batch',
    labelNames: ['model', 'version'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly queue = new Gauge({
    name: 'rxkeras_serving_queue_depth',
    help: 'Requests waiting for a batch',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });

  /** Records one answered predict request. */
  request(model: string, code: number, seconds: number): void {
    this.requests.inc({ model, code: String(code) });
    this.latency.observe({ model }, seconds);
  }

  /** The observer a servable reports its batches and queue to. */
  observer(model: string, version: number): ServableObserver {
    const labels = { model, version: String(version) };
    return {
      batch: (b) => {
        this.batchRows.observe(labels, b.rows);
        this.batchSeconds.observe(labels, b.ms / 1000);
      },
      queueDepth: (depth) => this.queue.set(labels, depth),
    };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
