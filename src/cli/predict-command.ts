import * as ops from '../ops/index.js';
import { withH5Write, writeArray } from '../core/hdf5.js';
import { atomicWrite } from '../io/index.js';
import type { Model } from '../models/model.js';
import { UsageError } from './errors.js';
import { readInputs } from './input-spec.js';
import { parseInputSpec } from './parse-input.js';
import { checkWritable } from './output-path.js';
import { loadModelSource } from './model-source.js';

export interface PredictOptions {
  weights?: string;
  /** `FILE.h5:DATASET[,DATASET...]`, one or more (their data sets in order). */
  input: string[];
  /** An .h5 path, or `-` for JSON on stdout. */
  output: string;
  batchSize?: number;
}

/** The name of each output: its layer's name (as Keras names outputs), made unique with `_1`, `_2`, ... */
export function outputNames(model: Model): string[] {
  let names: string[];
  try {
    names = model.outputNames;
  } catch {
    const layers = model.layers;
    names = [layers[layers.length - 1]?.name ?? 'output'];
  }
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = seen.get(n) ?? 0;
    seen.set(n, k + 1);
    return k === 0 ? n : `${n}_${k}`;
  });
}

/**
 * `rxkeras predict`: runs the model (inference mode) on the named HDF5 data
 * sets and writes one data set per output, named after its output layer, to
 * an .h5 file (atomically), or returns `{ name: nested arrays }` as JSON
 * text when the output is `-`.
 */
export async function predictCommand(modelFile: string, options: PredictOptions): Promise<string | undefined> {
  const specs = options.input.map(parseInputSpec);
  if (options.output !== '-') checkWritable(options.output);
  const { model, hasWeights } = await loadModelSource(modelFile, options.weights);
  try {
    if (!hasWeights) throw new UsageError(`${modelFile} holds no weights: pass --weights W.h5 (predicting with random weights is not useful)`);
    const x = await readInputs(model, specs);
    let outs: ops.Tensor[];
    try {
      const y = model.predict(x.length === 1 ? x[0] : x, { batchSize: options.batchSize ?? 32 });
      outs = Array.isArray(y) ? y : [y];
    } finally {
      ops.dispose(x);
    }
    try {
      const names = outputNames(model);
      if (options.output === '-') {
        const json: Record<string, unknown> = {};
        outs.forEach((t, i) => (json[names[i]] = t.arraySync()));
        return `${JSON.stringify(json)}\n`;
      }
      const arrays = outs.map((t) => ({ shape: t.shape, data: hdf5Data(t) }));
      await atomicWrite(options.output, (tmp) =>
        withH5Write(tmp, (file) => {
          arrays.forEach((a, i) => writeArray(file, names[i], a.shape, a.data));
          file.create_attribute('outputs', JSON.stringify({ outputs: names }));
        }),
      );
      return undefined;
    } finally {
      ops.dispose(outs);
    }
  } finally {
    model.dispose();
  }
}

/** The values of a tensor as HDF5 can store them: float32, or int32 for integer and boolean outputs. */
function hdf5Data(t: ops.Tensor): Float32Array | Int32Array {
  const v = t.dataSync();
  if (v instanceof Float32Array || v instanceof Int32Array) return v;
  return Int32Array.from(v as ArrayLike<number>);
}
