import { UsageError } from './errors.js';
import { modelFormat, type ConvertTarget } from './model-format.js';
import { checkWritable } from './output-path.js';
import { parseInputSpec } from './parse-input.js';
import type { PlotOptions } from './plot-command.js';

/**
 * The checks a command line gets before TensorFlow.js loads (fast failures):
 * readable inputs are checked by the parser; these check what the options
 * ask for against the model file's kind, and that outputs can be written.
 */
export function checkPredict(model: string, options: { weights?: string; input: string[]; output: string }): void {
  options.input.forEach(parseInputSpec);
  if (!['h5', 'tfjs'].includes(modelFormat(model)) && options.weights === undefined)
    throw new UsageError(`${model} holds no weights: pass --weights W.h5 (predicting with random weights is not useful)`);
  if (options.output !== '-') checkWritable(options.output);
}

export function checkConvert(model: string, options: { weights?: string; to: ConvertTarget; output: string; weightsOutput?: string }): void {
  if (options.to === 'h5' && options.output === '-') throw new UsageError("--to h5 writes a file: give --output PATH.h5, not '-'");
  if (options.to === 'tfjs' && options.output === '-') throw new UsageError("--to tfjs writes a folder (model.json and shards): give --output DIR, not '-'");
  if ((options.to === 'h5' || options.to === 'tfjs') && options.weightsOutput !== undefined)
    throw new UsageError(`--weights-output is for --to json|yaml (--to ${options.to} keeps the weights with the model)`);
  const format = modelFormat(model);
  const hasWeights = format === 'h5' || format === 'tfjs' || options.weights !== undefined;
  if (!hasWeights && options.to === 'h5') throw new UsageError(`${model} holds no weights: pass --weights W.h5 to make a whole-model .h5`);
  if (!hasWeights && options.to === 'tfjs') throw new UsageError(`${model} holds no weights: pass --weights W.h5 to write a TF.js model`);
  if (!hasWeights && options.weightsOutput !== undefined) throw new UsageError(`${model} holds no weights: pass --weights W.h5 with --weights-output`);
  if (options.output !== '-' && options.to !== 'tfjs') checkWritable(options.output);
  if (options.weightsOutput !== undefined) checkWritable(options.weightsOutput);
}

export function checkServe(models: string[], options: { name?: string[]; weights?: string[] }): void {
  const names = options.name ?? [];
  if (names.length > models.length) throw new UsageError(`${names.length} --name for ${models.length} model(s): give at most one per model, in order`);
  for (const name of names) if (!/^[^/:]+$/.test(name)) throw new UsageError(`--name '${name}': a model name cannot hold '/' or ':' (it goes in the URL)`);
  const architectures = models.filter((m) => !['h5', 'tfjs'].includes(modelFormat(m)));
  const weights = options.weights ?? [];
  if (weights.length !== architectures.length)
    throw new UsageError(
      `${architectures.length} .json/.yaml model(s) need as many --weights, in order (got ${weights.length}): ${architectures.join(', ') || 'none'}`,
    );
}

export function checkPlot(options: PlotOptions): void {
  if (!/\.(svg|png|dot)$/i.test(options.output)) throw new UsageError(`--output ${options.output}: expected a file name ending in .svg, .png or .dot`);
  checkWritable(options.output);
}

/** `fit` and `evaluate`: a whole-model .h5 (it holds the training_config), well-formed data specs, writable outputs. */
export function checkData(model: string, options: { x: string[]; y: string[] }, outputs: (string | undefined)[]): void {
  if (modelFormat(model) !== 'h5') throw new UsageError(`${model}: expected a whole-model .h5 saved compiled (its training_config gives the loss, metrics and optimizer)`);
  [...options.x, ...options.y].forEach(parseInputSpec);
  for (const out of outputs) if (out !== undefined) checkWritable(out);
}
