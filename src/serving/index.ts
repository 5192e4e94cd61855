/** Serving: dynamic batching as an RxJS operator, a TF Serving-compatible HTTP server, and a live training dashboard. */
export { microBatch, type Predictor, type InferenceRequest, type InferenceResult, type BatchInfo, type MicroBatchOptions } from './micro-batch.js';
export { concatRows, sliceRows, rowSize, type Rows } from './rows.js';
export * from './errors.js';
