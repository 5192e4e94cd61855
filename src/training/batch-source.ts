import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { Key } from '../core/rng.js';
import { foldIn } from '../core/rng.js';
import { disposeTree } from '../core/tree.js';
import { Dataset, toAsyncIterable, type Example, type TensorStructure } from '../../streams/index.js';
import { epochBatches } from './data.js';
import { rowsBatch, type RowSource } from './rows-batch.js';
import { splitRows, type Shard } from './split-rows.js';
import type { Batch } from './types.js';

/**
 * Where a loop's batches come from: in-memory tensors (sliced or gathered per
 * batch, reshuffled per epoch) or a pull-based Dataset of batched Examples.
 * Every batch a source yields belongs to the loop, which disposes it.
 */
export interface BatchSource {
  /** Batches per epoch, when known. */
  readonly steps: number | undefined;
  readonly samples: number | undefined;
  batches(epoch: number, key: Key): AsyncIterable<Batch> | Iterable<Batch>;
  /** Ends a pass carried over between epochs, disposing what it holds. */
  close(): Promise<void>;
}

/**
 * Batches of whole-data tensors: x tensors, then y tensors, then an optional
 * sample-weight tensor. With `shard`, each batch is only member `rank`'s rows
 * of the global batch (of `size` members, split as {@link splitRows} does);
 * `steps` and `samples` stay the global ones.
 */
export function tensorSource(parts: RowSource, batchSize: number, shuffle: boolean, shard?: Shard): BatchSource {
  const n = parts.x[0].shape[0];
  return {
    steps: Math.ceil(n / batchSize),
    samples: n,
    *batches(epoch, key) {
      for (const global of epochBatches(n, batchSize, shuffle, foldIn(key, epoch))) {
        const ranges = shard && splitRows(global.length, shard.size);
        // Its tensors are gathered when read (see rowsBatch).
        const batch = rowsBatch(parts, ranges ? global.subarray(...ranges[shard!.rank]) : global);
        if (ranges) batch.memberRows = ranges.map(([from, to]) => to - from);
        yield batch;
      }
    },
    close: async () => {},
  };
}

/**
 * Batches from a Dataset of batched Examples, pulled with at most `prefetch`
 * batches asked ahead. With `steps`, each epoch takes that many batches and
 * the next epoch goes on where it stopped (re-opening the data set when it
 * runs out), as Keras does with `steps_per_epoch`; without, an epoch is one pass.
 */
export function datasetSource(dataset: Dataset<Example>, names: { inputs: string[]; outputs: string[] }, options: { steps?: number; prefetch?: number; needTargets?: boolean } = {}): BatchSource {
  const { steps, prefetch = 2 } = options;
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) throw new InvalidArgumentError('stepsPerEpoch', 'an integer >= 1', steps);
  let carried: AsyncIterator<Example> | undefined;
  let passes = 0;
  const open = (epoch: number) => toAsyncIterable(dataset, { prefetch, epoch })[Symbol.asyncIterator]();
  return {
    steps: steps ?? dataset.length,
    samples: undefined,
    async *batches(epoch) {
      if (steps === undefined) {
        for await (const example of toAsyncIterable(dataset, { prefetch, epoch })) yield toBatch(example, names, options.needTargets ?? true);
        return;
      }
      let taken = 0;
      let emptyPasses = 0;
      while (taken < steps) {
        carried ??= open(passes++);
        const next = await carried.next();
        if (next.done) {
          carried = undefined;
          if (++emptyPasses > 1) throw new InvalidArgumentError('stepsPerEpoch', `at most the number of batches the data set yields (${taken} in this epoch)`, steps);
          continue;
        }
        emptyPasses = 0;
        taken++;
        yield toBatch(next.value, names, options.needTargets ?? true);
      }
    },
    close: async () => {
      await carried?.return?.();
      carried = undefined;
    },
  };
}

function toBatch(example: Example, names: { inputs: string[]; outputs: string[] }, needTargets: boolean): Batch {
  try {
    const x = structureToList('x', example.x, names.inputs);
    if (needTargets && example.y === undefined) throw new InvalidArgumentError('dataset element', 'an element with y (targets)', Object.keys(example));
    const y = example.y === undefined ? [] : structureToList('y', example.y, names.outputs);
    const sw = example.sampleWeight === undefined ? null : (structureToList('sampleWeight', example.sampleWeight, ['sampleWeight'])[0] as ops.Tensor);
    return { x, y, sampleWeight: sw ? y.map(() => sw) : null };
  } catch (error) {
    disposeTree(example);
    throw error;
  }
}

function structureToList(argument: string, value: TensorStructure, names: string[]): ops.Tensor[] {
  if (value instanceof ops.Tensor) return [value];
  if (Array.isArray(value)) return value as ops.Tensor[];
  const record = value as Record<string, ops.Tensor>;
  return names.map((n) => {
    const t = record[n];
    if (!(t instanceof ops.Tensor)) throw new InvalidArgumentError(`${argument}.${n}`, `a tensor for every one of ${names.join(', ')}`, Object.keys(record));
    return t;
  });
}
