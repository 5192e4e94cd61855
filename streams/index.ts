/**
 * rxkeras/streams: lazy, cold, pull-based data pipelines. See README.md for
 * the pull protocol and the ownership rules.
 */
export { Dataset, FIRST_PASS, type DatasetInfo, type DatasetOperator, type Indexed, type OpenPass, type Pass } from './dataset.js';
export {
  batchLength, stackElements, toExample, unstackElement,
  type Example, type ExampleInput, type NumericLeaf, type TensorStructure,
} from './element.js';
/** An element's tensors and their disposal, through the engine's pytree module. */
export { disposeTree as disposeValue, tensors as tensorsOf } from '../src/core/tree.js';
export { stage, type StageIO, type StageLogic, type Upstream, type UpstreamHandlers } from './internal/stage.js';
export { indexedDataset } from './internal/indexed.js';
// sources
export { fromArrays, type Row } from './from-arrays.js';
export { fromTensors, type FromTensorsOptions } from './from-tensors.js';
export { fromAsyncIterable, type FromIterableOptions, type IterableSource } from './from-async-iterable.js';
export { fromGenerator, type GeneratorFunction } from './from-generator.js';
export { fromObservable, type FromObservableOptions } from './from-observable.js';
export { generate } from './generate.js';
export { fromHdf5, type FromHdf5Options } from './from-hdf5.js';
export { fromHdf5Batches, type FromHdf5BatchesOptions } from './from-hdf5-batches.js';
export type { ReaderThread } from './internal/hdf5-reader.js';
export { fromCsv, type FromCsvOptions } from './from-csv.js';
// operators
export { map } from './map.js';
export { parallelMap, type ParallelMapOptions } from './parallel-map.js';
export { batch, type BatchOptions } from './batch.js';
export { unbatch } from './unbatch.js';
export { shuffle, type ShuffleOptions } from './shuffle.js';
export { take } from './take.js';
export { skip } from './skip.js';
export { filter } from './filter.js';
export { zip } from './zip.js';
export { splitValidation, splitAt, type Split } from './split-validation.js';
export { repeat } from './repeat.js';
export { epochs, withEpoch, type EpochPass } from './epochs.js';
export { prefetch } from './prefetch.js';
export { cache, CachedDataset, type CacheOptions } from './cache.js';
export { shard } from './shard.js';
export { interleave, type InterleaveOptions } from './interleave.js';
// edges
export { toObservable, type EdgeOptions } from './to-observable.js';
export { toAsyncIterable } from './to-async-iterable.js';
export { consume } from './consume.js';
