import { NotCompiledError } from '../core/errors.js';
import { formatLogs } from '../callbacks/index.js';
import { loadModel } from '../models/index.js';
import { batch } from '../../streams/index.js';
import { hdf5Examples } from './hdf5-dataset.js';
import { parseInputSpec } from './parse-input.js';

export interface EvaluateCommandOptions {
  x: string[];
  y: string[];
  batchSize: number;
}

/**
 * `rxkeras evaluate MODEL.h5 --x data.h5:x --y data.h5:y`: Keras's
 * `model.evaluate` (the loss and metrics of its training_config) on HDF5
 * data streamed from disk; returns the line `loss: 0.1234 - accuracy: 0.9650`.
 */
export async function evaluateCommand(modelFile: string, options: EvaluateCommandOptions): Promise<string> {
  const model = await loadModel(modelFile);
  try {
    if (!model.compiled) throw new NotCompiledError(`rxkeras evaluate: ${modelFile} has no training_config; evaluate`);
    const examples = await hdf5Examples(model, options.x.map(parseInputSpec), options.y.map(parseInputSpec));
    const logs = await model.evaluateDataset(examples.pipe(batch(options.batchSize)));
    return `${formatLogs(logs).replace(/^- /, '')}\n`;
  } finally {
    model.dispose();
  }
}
