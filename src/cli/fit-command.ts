import { NotCompiledError } from '../core/errors.js';
import { CSVLogger, EarlyStopping, ModelCheckpoint, TensorBoard } from '../callbacks/index.js';
import { loadModel } from '../models/index.js';
import type { Callback } from '../training/events.js';
import { batch, shuffle, splitValidation, type Example } from '../../streams/index.js';
import { hdf5Examples } from './hdf5-dataset.js';
import { parseInputSpec } from './parse-input.js';

export interface FitCommandOptions {
  /** `FILE.h5:DATASET[,DATASET...]`, one data set per model input (repeatable). */
  x: string[];
  /** One data set per model output. */
  y: string[];
  output: string;
  epochs: number;
  batchSize: number;
  validationSplit?: number;
  earlyStoppingPatience?: number;
  checkpoint?: string;
  csvLog?: string;
  tensorboard?: string;
  /** Shuffle the training rows every epoch (default true, as Keras). */
  shuffle: boolean;
  /** Seed of the shuffling and of dropout: the same seed, the same run as `model.fit` in code. */
  seed?: number;
}

/**
 * `rxkeras fit MODEL.h5 --x data.h5:x --y data.h5:y --output trained.h5`:
 * Keras's `model.fit` on a compiled Keras file (its training_config and
 * optimizer state), with the data streamed from HDF5 files, never loaded
 * whole: `validationSplit` takes the last rows as Keras does, the training
 * rows are reshuffled each epoch with the compiled model's key (so a run
 * equals `model.fit(x, y)` of the same model and seed), Keras's progress bar
 * on stdout, and the trained model saved atomically.
 */
export async function fitCommand(modelFile: string, options: FitCommandOptions): Promise<void> {
  const model = await loadModel(modelFile, { seed: options.seed });
  try {
    if (!model.compiled) throw new NotCompiledError(`rxkeras fit: ${modelFile} has no training_config; fit`);
    const examples = await hdf5Examples(model, options.x.map(parseInputSpec), options.y.map(parseInputSpec));
    const { train, validation } = options.validationSplit ? splitValidation<Example>(options.validationSplit)(examples) : { train: examples, validation: undefined };
    const shuffled = options.shuffle ? train.pipe(shuffle<Example>({ key: model.compiled.key })) : train;
    const callbacks: Callback[] = [];
    if (options.earlyStoppingPatience !== undefined) callbacks.push(EarlyStopping({ monitor: validation ? 'val_loss' : 'loss', patience: options.earlyStoppingPatience }));
    if (options.checkpoint !== undefined) callbacks.push(ModelCheckpoint(options.checkpoint));
    if (options.csvLog !== undefined) callbacks.push(CSVLogger(options.csvLog));
    if (options.tensorboard !== undefined) callbacks.push(TensorBoard({ logDir: options.tensorboard }));
    await model.fit(shuffled.pipe(batch(options.batchSize)), {
      epochs: options.epochs,
      validationData: validation?.pipe(batch(options.batchSize)),
      callbacks,
    });
    await model.save(options.output);
  } finally {
    model.dispose();
  }
}
