import { Subject, lastValueFrom, tap } from 'rxjs';
import { ServingClosedError } from './errors.js';
import { microBatch, type BatchInfo, type InferenceRequest, type MicroBatchOptions } from './micro-batch.js';
import type { Rows } from './rows.js';
import { signatureOf, type ServableModel, type Signature } from './signature.js';

/** The TF Serving version states (ModelVersionStatus.State) a servable goes through: loading is synchronous here, so START and LOADING never show. */
export type VersionState = 'AVAILABLE' | 'UNLOADING' | 'END';

/** Batching settings of a served model (see microBatch). */
export type BatchingOptions = Pick<MicroBatchOptions, 'maxBatchSize' | 'maxDelayMs' | 'maxQueue'>;

/** What a servable reports for metrics. */
export interface ServableObserver {
  batch?(info: BatchInfo): void;
  queueDepth?(depth: number): void;
}

interface Pending extends InferenceRequest {
  resolve(outputs: Rows[]): void;
  reject(error: Error): void;
}

/**
 * One version of one model, with its own batcher: requests go into a
 * Subject piped through microBatch, and each answer comes back to its own
 * promise. `unload` stops new requests, lets the batcher run down the ones it
 * holds (every accepted request is answered), then frees the model when it
 * was given to the servable to own.
 */
export class Servable {
  readonly signature: Signature;
  private stateNow: VersionState = 'AVAILABLE';
  private readonly requests = new Subject<Pending>();
  private readonly done: Promise<void>;

  constructor(
    readonly name: string,
    readonly version: number,
    readonly model: ServableModel,
    batching: BatchingOptions,
    private readonly options: { dispose?: () => void; observer?: ServableObserver } = {},
  ) {
    this.signature = signatureOf(model);
    const { observer } = options;
    this.done = lastValueFrom(
      this.requests.pipe(
        microBatch(model, { ...batching, onBatch: observer?.batch, onQueueDepth: observer?.queueDepth }),
        tap((r) => (r.error ? r.request.reject(r.error) : r.request.resolve(r.outputs))),
      ),
      { defaultValue: undefined },
    ).then(() => undefined);
  }

  get state(): VersionState {
    return this.stateNow;
  }

  /** This request's rows of every output; rejects with a ServingError (queue full, cancelled, batch failed, closing). */
  predict(inputs: Rows[], signal?: AbortSignal): Promise<Rows[]> {
    if (this.stateNow !== 'AVAILABLE') return Promise.reject(new ServingClosedError(`model '${this.name}' version ${this.version}`));
    return new Promise((resolve, reject) => this.requests.next({ inputs, signal, resolve, reject }));
  }

  /** Takes no new requests, answers those it holds, then frees the model (when owned). */
  async unload(): Promise<void> {
    if (this.stateNow === 'AVAILABLE') {
      this.stateNow = 'UNLOADING';
      this.requests.complete();
      await this.done;
      this.options.dispose?.();
      this.stateNow = 'END';
    } else await this.done;
  }
}
