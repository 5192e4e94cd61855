import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../core/errors.js';
import { InvalidRequestError, ServableNotFoundError, ServingClosedError, ServingError } from './errors.js';
import { parseJsonBody } from './json-body.js';
import { ServingMetrics } from './metrics.js';
import { ModelRegistry } from './model-registry.js';
import { formatModelMetadata, formatModelStatus } from './model-status.js';
import { parsePredictRequest } from './predict-request.js';
import { formatError, formatPredictResponse } from './predict-response.js';
import type { BatchingOptions } from './servable.js';

export interface ServerOptions extends Partial<BatchingOptions> {
  /** 127.0.0.1 unless given. */
  host?: string;
  /** 8501 (TF Serving's REST port) unless given; 0 picks a free port. */
  port?: number;
  /** Largest request body in bytes (413 above it); 16 MiB unless given. */
  bodyLimit?: number;
  /** Seconds a refused client is told to wait (Retry-After on 429 and 503). */
  retryAfterSeconds?: number;
}

/** Batching defaults: batches of up to 64 rows, 2 ms to fill, 1,024 requests waiting at most. */
export const DEFAULT_BATCHING: BatchingOptions = { maxBatchSize: 64, maxDelayMs: 2, maxQueue: 1024 };

// TF Serving's URL patterns (http_rest_api_util.cc), case-insensitive.
const PREDICT_PATH = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+)|\/labels\/([^/:]+))?:(classify|regress|predict)$/i;
const STATUS_PATH = /^\/v1\/models(?:\/([^/:]+))?(?:\/versions\/(\d+)|\/labels\/([^/:]+))?(?:\/(metadata))?$/i;

/**
 * An HTTP server (fastify) speaking TF Serving's REST API for the models in
 * `models`: `POST /v1/models/{name}[/versions/{v}]:predict`, `GET
 * /v1/models/{name}[/versions/{v}]` (status) and `.../metadata`, and
 * `GET /metrics` (Prometheus). Each model version batches concurrent
 * requests (microBatch). `close()` stops taking requests and answers every
 * one it has accepted before it resolves.
 */
export class ModelServer {
  readonly metrics = new ServingMetrics();
  readonly models: ModelRegistry;
  private readonly app: FastifyInstance;
  private address: string | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ServerOptions = {}) {
    const batching = { ...DEFAULT_BATCHING, ...definedOnly(options) };
    this.models = new ModelRegistry(batching, (name, version) => this.metrics.observer(name, version));
    const bodyLimit = options.bodyLimit ?? 16 * 1024 * 1024;
    if (!Number.isInteger(bodyLimit) || bodyLimit < 1) throw new InvalidArgumentError('bodyLimit', 'a whole number of bytes >= 1', bodyLimit);
    this.app = Fastify({
      bodyLimit,
      routerOptions: { caseSensitive: false },
      forceCloseConnections: 'idle',
      return503OnClosing: false,
      // A URL that does not decode gets TF Serving's error body too.
      frameworkErrors: (error, _request, reply) => this.sendError(reply, error),
    });
    // TF Serving reads any body as JSON, whatever its Content-Type (curl -d sends a form type).
    this.app.removeAllContentTypeParsers();
    this.app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, parseJsonBody(body as string));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
    this.app.addHook('onRequest', async (_request, reply) => {
      if (this.closing) return this.sendError(reply.header('connection', 'close'), new ServingClosedError('the server'));
    });
    // While closing, every answer ends its connection, so that keep-alive clients let go.
    this.app.addHook('onSend', async (_request, reply) => {
      if (this.closing) reply.header('connection', 'close');
    });
    this.app.addHook('onResponse', async (request, reply) => {
      const m = request.method === 'POST' ? PREDICT_PATH.exec(request.url.split('?')[0]) : null;
      if (!m) return;
      const name = safeDecode(m[1]);
      this.metrics.request(name !== undefined && this.models.names.includes(name) ? name : '', reply.statusCode, reply.elapsedTime / 1000);
    });
    this.app.setErrorHandler((error, _request, reply) => this.sendError(reply, error));
    this.app.setNotFoundHandler((request, reply) => this.sendError(reply, new ServableNotFoundError(`no such endpoint: ${request.method} ${request.url}`)));
    this.app.get('/metrics', async (_request, reply) => reply.type(this.metrics.contentType).send(await this.metrics.text()));
    this.app.post('/v1/*', (request, reply) => this.predict(request, reply));
    this.app.get('/v1/*', (request, reply) => this.status(request, reply));
  }

  /** Starts listening; resolves with the base URL (http://127.0.0.1:8501). */
  async listen(): Promise<string> {
    const host = this.options.host ?? '127.0.0.1';
    await this.app.listen({ host, port: this.options.port ?? 8501 });
    const port = (this.app.server.address() as { port: number }).port;
    this.address = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return this.address;
  }

  /** The base URL, once listening. */
  get url(): string | undefined {
    return this.address;
  }

  /** Refuses new requests (503), answers every accepted one, stops listening, then unloads the models. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.app.close();
      await this.models.close();
    })();
    return this.closing;
  }

  private async predict(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const path = request.url.split('?')[0];
    const m = PREDICT_PATH.exec(path);
    if (!m) return this.sendError(reply, new InvalidRequestError('URL', 'POST /v1/models/{name}[/versions/{version}]:predict', `POST ${path}`));
    try {
      const name = decodeURIComponent(m[1]); // fastify has refused URLs that do not decode (frameworkErrors)
      if (m[4].toLowerCase() !== 'predict') throw new InvalidRequestError('URL', `:predict (a Keras model has no ${m[4]} signature)`, `:${m[4]}`);
      if (m[3] !== undefined) throw new ServableNotFoundError(`Unrecognized servable version label: ${m[3]}`);
      const servable = this.models.resolve(name, m[2] === undefined ? undefined : Number(m[2]));
      const { format, inputs } = parsePredictRequest(request.body, servable.signature);
      // A client that hangs up before its batch runs is not computed.
      const abort = new AbortController();
      reply.raw.once('close', () => reply.raw.writableFinished || abort.abort());
      const outputs = await servable.predict(inputs, abort.signal);
      const names = servable.signature.outputs.map((o) => o.name);
      reply.type('application/json').send(formatPredictResponse(format, outputs, names));
    } catch (e) {
      this.sendError(reply, e);
    }
  }

  private async status(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const path = request.url.split('?')[0];
    const m = STATUS_PATH.exec(path);
    if (!m) return this.sendError(reply, new InvalidRequestError('URL', 'GET /v1/models/{name}[/versions/{version}][/metadata]', `GET ${path}`));
    if (m[1] === undefined) return this.sendError(reply, new InvalidRequestError('URL', 'a model name (/v1/models/{name})', 'none'));
    if (m[3] !== undefined) return this.sendError(reply, new ServableNotFoundError(`Unrecognized servable version label: ${m[3]}`));
    const version = m[2] === undefined ? undefined : Number(m[2]);
    try {
      const name = decodeURIComponent(m[1]); // fastify has refused URLs that do not decode (frameworkErrors)
      const text = m[4] !== undefined ? formatModelMetadata(this.models.resolve(name, version)) : formatModelStatus(this.models.status(name, version));
      reply.type('application/json').send(text);
    } catch (e) {
      this.sendError(reply, e);
    }
  }

  /** `{ "error": message }` with the status TF Serving gives; Retry-After when the client should come back. */
  private sendError(reply: FastifyReply, e: unknown): FastifyReply {
    const status = e instanceof ServingError ? e.httpStatus : httpStatusOf(e);
    if (status === 429 || status === 503) reply.header('retry-after', String(this.options.retryAfterSeconds ?? 1));
    const message = (e as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `the request body is larger than the limit of ${this.app.initialConfig.bodyLimit} bytes` : (e as Error).message;
    return reply.code(status).type('application/json').send(formatError(message));
  }
}

/** Starts a server (see ModelServer) and resolves once it listens. */
export async function startServer(options: ServerOptions = {}): Promise<ModelServer> {
  const server = new ModelServer(options);
  await server.listen();
  return server;
}

function safeDecode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

function httpStatusOf(e: unknown): number {
  const code = (e as { statusCode?: unknown }).statusCode;
  return typeof code === 'number' && code >= 400 && code < 600 ? code : 500;
}

function definedOnly(options: ServerOptions): Partial<BatchingOptions> {
  const out: Partial<BatchingOptions> = {};
  for (const key of ['maxBatchSize', 'maxDelayMs', 'maxQueue'] as const) if (options[key] !== undefined) out[key] = options[key];
  return out;
}
