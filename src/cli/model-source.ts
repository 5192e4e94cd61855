import fs from 'node:fs';
import path from 'node:path';
import { loadModel, loadWeights, modelFromJSON, modelFromYAML } from '../io/index.js';
import type { Model } from '../models/model.js';

/** The kind of model file the command was given. */
export type ModelFormat = 'h5' | 'json' | 'yaml';

/** A model loaded from the command line, and whether it holds weights read from a file. */
export interface LoadedModel {
  model: Model;
  format: ModelFormat;
  /** True when the weights came from a file (a whole-model .h5, or --weights). */
  hasWeights: boolean;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The format of a model file: from its extension (`.h5`, `.hdf5`, `.json`,
 * `.yaml`, `.yml`), else from its first bytes (the HDF5 signature, a JSON
 * brace or bracket, YAML otherwise). A missing file is reported by the read.
 */
export function modelFormat(file: string): ModelFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.h5' || ext === '.hdf5' || ext === '.he5') return 'h5';
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(512);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n >= 8 && head.subarray(0, 8).equals(HDF5_SIGNATURE)) return 'h5';
    const text = head.subarray(0, n).toString('utf8').trimStart();
    return text.startsWith('{') || text.startsWith('[') ? 'json' : 'yaml';
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Loads MODEL as the commands take it: a whole-model `.h5` (architecture,
 * weights and, when saved compiled, the training configuration), or a `.json`
 * / `.yaml` architecture; then the weights of `--weights` when given (by
 * topological order, as Keras's `load_weights`).
 */
export async function loadModelSource(file: string, weights?: string): Promise<LoadedModel> {
  const format = modelFormat(file);
  let model: Model;
  if (format === 'h5') model = await loadModel(file);
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
  return { model, format, hasWeights: format === 'h5' || weights !== undefined };
}
