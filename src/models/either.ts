import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { RxKerasError } from '../core/errors.js';
import type { LoadModelOptions, LoadWeightsOptions } from '../io/index.js';
import { loadModel, loadWeights, saveModel, saveWeights } from './files.js';
import { modelFromJSON, modelFromYAML } from './from-config.js';
import type { Model } from './model.js';

/**
 * The functional API at the I/O edge: the same readers and writers, with
 * their typed errors as values (fp-ts Either / TaskEither) instead of
 * exceptions or rejected promises. Anything that is not an RxKerasError (a
 * bug) is still thrown.
 */
function typed(error: unknown): RxKerasError {
  if (error instanceof RxKerasError) return error;
  throw error;
}

export const modelFromJSONE = (json: string | object): E.Either<RxKerasError, Model> => E.tryCatch(() => modelFromJSON(json), typed);
export const modelFromYAMLE = (text: string): E.Either<RxKerasError, Model> => E.tryCatch(() => modelFromYAML(text), typed);
export const loadModelTE = (path: string, options?: LoadModelOptions): TE.TaskEither<RxKerasError, Model> =>
  TE.tryCatch(() => loadModel(path, options), typed);
export const saveModelTE = (model: Model, path: string): TE.TaskEither<RxKerasError, void> => TE.tryCatch(() => saveModel(model, path), typed);
export const loadWeightsTE = (model: Model, path: string, options?: LoadWeightsOptions): TE.TaskEither<RxKerasError, void> =>
  TE.tryCatch(() => loadWeights(model, path, options), typed);
export const saveWeightsTE = (model: Model, path: string): TE.TaskEither<RxKerasError, void> => TE.tryCatch(() => saveWeights(model, path), typed);
