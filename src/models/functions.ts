import type { Observable } from 'rxjs';
import type * as ops from '../ops/index.js';
import type { Dataset, Example } from '../../streams/index.js';
import type { DataArg } from '../training/data.js';
import type { EvaluateOptions } from '../training/evaluate.js';
import type { FitEvent } from '../training/events.js';
import type { FitData, FitOptions } from '../training/fit.js';
import type { PredictOptions } from '../training/predict.js';
import type { Logs } from '../training/types.js';
import type { Model } from './model.js';

/** The training event stream of `model` on arrays (`{ x, y }`) or a Dataset (`{ dataset }`): `model.fit$(...)`. */
export function fit$(model: Model, data: FitData, options?: FitOptions): Observable<FitEvent> {
  return 'dataset' in data ? model.fit$(data.dataset, options) : model.fit$(data.x, data.y, options);
}

/** Keras `evaluate` as a function: `model.evaluate(x, y, options)`. */
export function evaluate(model: Model, x: DataArg, y: DataArg, options?: EvaluateOptions): Logs {
  return model.evaluate(x, y, options);
}

/** `model.evaluateDataset(dataset, options)`. */
export function evaluateDataset(model: Model, dataset: Dataset<Example>, options?: { steps?: number; prefetch?: number }): Promise<Logs> {
  return model.evaluateDataset(dataset, options);
}

/** Keras `predict` as a function: `model.predict(x, options)`. */
export function predict(model: Model, x: DataArg, options?: PredictOptions): ops.Tensor | ops.Tensor[] {
  return model.predict(x, options);
}

/** `model.predictDataset(dataset, options)`. */
export function predictDataset(model: Model, dataset: Dataset<Example>, options?: { steps?: number; prefetch?: number }): Promise<ops.Tensor | ops.Tensor[]> {
  return model.predictDataset(dataset, options);
}
