import * as ops from '../ops/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { Dataset, Example } from '../../streams/index.js';
import { datasetSource } from './batch-source.js';
import { checkBatchSize, epochBatches, sampleCount, takeRows, toTensors, type DataArg } from './data.js';
import type { Module } from './module.js';
import { predictStep, runCompiled } from './steps.js';
import type { Variables } from './types.js';
import { batchTensors } from './rows-batch.js';

export interface PredictOptions {
  batchSize?: number;
  verbose?: 0 | 1 | 2;
}

/** Keras `predict`: outputs of `module` with `variables` in inference mode, batch by batch; one tensor per output (a single one for single-output models). */
export function predictArrays(module: Module, variables: Variables, x: DataArg, options: PredictOptions = {}): ops.Tensor | ops.Tensor[] {
  const batchSize = checkBatchSize(options.batchSize ?? 32);
  const { tensors, created } = toTensors('x', x, module.inputNames);
  try {
    const n = sampleCount([{ argument: 'x', tensors }]);
    const chunks: ops.Tensor[][] = [];
    try {
      for (const idx of epochBatches(n, batchSize, false, 0)) {
        const rows = takeRows(tensors, idx);
        try {
          chunks.push(runCompiled(module, () => predictStep(module, variables, rows)));
        } finally {
          ops.dispose(rows);
        }
      }
      const outputs = chunks[0].map((_, i) => (chunks.length === 1 ? chunks[0][i] : ops.concat(chunks.map((c) => c[i]), 0)));
      return outputs.length === 1 ? outputs[0] : outputs;
    } finally {
      if (chunks.length > 1) ops.dispose(chunks.flat());
    }
  } finally {
    ops.dispose(created);
  }
}

/** Keras `predict` on a Dataset of batched Examples (targets, if any, are ignored): outputs concatenated over one pass or `steps` batches. */
export async function predictDataset(module: Module, variables: Variables, dataset: Dataset<Example>, options: { steps?: number; prefetch?: number } = {}): Promise<ops.Tensor | ops.Tensor[]> {
  const source = datasetSource(dataset, { inputs: module.inputNames, outputs: module.outputNames }, { ...options, needTargets: false });
  const chunks: ops.Tensor[][] = [];
  try {
    for await (const batch of source.batches(0, 0)) {
      try {
        chunks.push(runCompiled(module, () => predictStep(module, variables, batch.x)));
      } finally {
        ops.dispose(batchTensors(batch));
      }
    }
    if (chunks.length === 0) throw new InvalidArgumentError('dataset', 'at least one batch to predict', 'an empty pass');
    const outputs = chunks[0].map((_, i) => ops.concat(chunks.map((c) => c[i]), 0));
    return outputs.length === 1 ? outputs[0] : outputs;
  } finally {
    ops.dispose(chunks.flat());
    await source.close();
  }
}
