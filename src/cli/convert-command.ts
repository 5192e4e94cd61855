import fs from 'node:fs';
import { atomicWrite, toJSON, toYAML } from '../io/index.js';
import { saveModel, saveWeights } from '../models/index.js';
import { UsageError } from './errors.js';
import type { ConvertTarget } from './model-format.js';
import { loadModelSource } from './model-source.js';
import { checkWritable } from './output-path.js';


export interface ConvertOptions {
  weights?: string;
  to: ConvertTarget;
  /** A path, or `-` (stdout) for json and yaml. */
  output: string;
  /** For json and yaml: where to save the weights (Keras's save_weights layout). */
  weightsOutput?: string;
}

export interface ConvertResult {
  /** Text for stdout (`--output -`). */
  stdout?: string;
  /** Notes for stderr. */
  notes: string[];
}

/**
 * `rxkeras convert`: json and yaml write the architecture (Keras's
 * `to_json` / `to_yaml`), and the weights too with `--weights-output`; h5
 * writes a whole model (architecture, weights and, for a model saved
 * compiled, its training configuration and optimizer state). Every file is
 * written atomically.
 */
export async function convertCommand(modelFile: string, options: ConvertOptions): Promise<ConvertResult> {
  if (options.to === 'h5' && options.output === '-') throw new UsageError("--to h5 writes a file: give --output PATH.h5, not '-'");
  if (options.to === 'tfjs' && options.output === '-') throw new UsageError("--to tfjs writes a folder (model.json and shards): give --output DIR, not '-'");
  if ((options.to === 'h5' || options.to === 'tfjs') && options.weightsOutput !== undefined)
    throw new UsageError(`--weights-output is for --to json|yaml (--to ${options.to} keeps the weights with the model)`);
  if (options.output !== '-' && options.to !== 'tfjs') checkWritable(options.output);
  if (options.weightsOutput !== undefined) checkWritable(options.weightsOutput);
  const { model, hasWeights } = await loadModelSource(modelFile, options.weights);
  const notes: string[] = [];
  try {
    if (options.to === 'h5') {
      if (!hasWeights) throw new UsageError(`${modelFile} holds no weights: pass --weights W.h5 to make a whole-model .h5`);
      await saveModel(model, options.output);
      return { notes };
    }
    if (options.to === 'tfjs') {
      if (!hasWeights) throw new UsageError(`${modelFile} holds no weights: pass --weights W.h5 to write a TF.js model`);
      await model.saveLayersModel(options.output);
      return { notes };
    }
    const text = options.to === 'json' ? `${toJSON(model, 2)}\n` : toYAML(model);
    if (options.weightsOutput !== undefined) {
      if (!hasWeights) throw new UsageError(`${modelFile} holds no weights: pass --weights W.h5 with --weights-output`);
      await saveWeights(model, options.weightsOutput);
    } else if (hasWeights)
      notes.push(`note: ${options.to} holds the architecture only; add --weights-output W.h5 to save the weights too`);
    if (options.output === '-') return { stdout: text, notes };
    await atomicWrite(options.output, (tmp) => fs.promises.writeFile(tmp, text));
    return { notes };
  } finally {
    model.dispose();
  }
}
