/** Serving: dynamic batching as an RxJS operator, a TF Serving-compatible HTTP server, and a live training dashboard. */
export { microBatch, checkBatchingOptions, type Predictor, type InferenceRequest, type InferenceResult, type BatchInfo, type MicroBatchOptions } from './micro-batch.js';
export { concatRows, sliceRows, rowSize, type Rows } from './rows.js';
export { signatureOf, type Signature, type TensorSpec, type ServableModel } from './signature.js';
export { parsePredictRequest, type PredictFormat } from './predict-request.js';
export { formatPredictResponse, formatError, formatFloat32 } from './predict-response.js';
export { parseJsonBody } from './json-body.js';
export { formatModelStatus, formatModelMetadata } from './model-status.js';
export { Servable, type VersionState, type BatchingOptions, type ServableObserver } from './servable.js';
export { ModelRegistry, type LoadOptions } from './model-registry.js';
export { ServingMetrics } from './metrics.js';
export { ModelServer, startServer, DEFAULT_BATCHING, type ServerOptions } from './model-server.js';
export * from './errors.js';
export { dashboard, type DashboardOptions, type DashboardCallback } from './dashboard.js';
export { DashboardHub, type RunState, type HubOptions, type EventSink } from './dashboard-hub.js';
