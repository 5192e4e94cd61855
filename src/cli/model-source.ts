import fs from 'node:fs';
import { loadLayersModel, loadModel, loadWeights, modelFromJSON, modelFromYAML } from '../models/index.js';
import type { Model } from '../models/model.js';
import { modelFormat, type ModelFormat } from './model-format.js';

/** A model loaded from the command line, and whether it holds weights read from a file. */
export interface LoadedModel {
  model: Model;
  format: ModelFormat;
  /** True when the weights came from a file (a whole-model .h5, or --weights). */
  hasWeights: boolean;
}

/**
 * Loads MODEL as the commands take it: a whole-model `.h5` (architecture,
 * weights and, when saved compiled, the training configuration), or a `.json`
 * / `.yaml` architecture, or a TF.js layers `model.json` (with its shards); then the weights of `--weights` when given (by
 * topological order, as Keras's `load_weights`).
 */
export async function loadModelSource(file: string, weights?: string): Promise<LoadedModel> {
  const format = modelFormat(file);
  let model: Model;
  if (format === 'h5') model = await loadModel(file);
  else if (format === 'tfjs') model = loadLayersModel(file);
  else {
    const text = fs.readFileSync(file, 'utf8');
    model = format === 'json' ? modelFromJSON(text, { where: file }) : modelFromYAML(text, { where: file });
  }
  if (weights !== undefined) {
    try {
      await loadWeights(model, weights);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  return { model, format, hasWeights: format === 'h5' || format === 'tfjs' || weights !== undefined };
}
