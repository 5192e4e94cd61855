import { RxKerasError } from '../core/errors.js';

/**
 * The errors of serving. Each maps to the HTTP status TF Serving gives the
 * same condition (`httpStatus`); the server answers `{ "error": message }`.
 */
export abstract class ServingError extends RxKerasError {
  abstract readonly httpStatus: number;
}

/** The queue of requests waiting for a batch is full: the request is refused at once, never buffered. */
export class QueueFullError extends ServingError {
  readonly httpStatus = 429;
  constructor(readonly limit: number) {
    super(`the queue of requests waiting for a batch is full (maxQueue ${limit}): retry later`);
  }
}

/** The caller gave up (its AbortSignal fired) before the request was computed. */
export class RequestCancelledError extends ServingError {
  readonly httpStatus = 499;
  constructor() {
    super('the request was cancelled before it was computed');
  }
}

/** A request holds more rows than one batch may (TF Serving refuses the same without batch splitting). */
export class RequestTooLargeError extends ServingError {
  readonly httpStatus = 400;
  constructor(
    readonly rows: number,
    readonly maxBatchSize: number,
  ) {
    super(`a request may hold at most ${maxBatchSize} rows (maxBatchSize), got ${rows}`);
  }
}

/** The model failed on the batch this request was part of; `cause` is the model's error. */
export class BatchFailedError extends ServingError {
  readonly httpStatus = 500;
  constructor(
    readonly requests: number,
    override readonly cause: unknown,
  ) {
    super(`the model failed on a batch of ${requests} request(s): ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** The model (or version) is shutting down and takes no new requests. */
export class ServingClosedError extends ServingError {
  readonly httpStatus = 503;
  constructor(readonly what: string) {
    super(`${what} is shutting down and takes no new requests`);
  }
}

/** No such model or version (TF Serving's NOT_FOUND). */
export class ServableNotFoundError extends ServingError {
  readonly httpStatus = 404;
}

/** A request body that does not fit the model's signature; `field` is the path of the bad part ('instances[3][1]'), `found` says what was there. */
export class InvalidRequestError extends ServingError {
  readonly httpStatus = 400;
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${field}: expected ${expected}, got ${found}`);
  }
}
