import { InvalidArgumentError } from '../core/errors.js';
import { getOptimizer, type OptimizerSpec, type Optimizer } from '../optimizers/index.js';
import { getLoss, type LossFunction, type LossSpec } from '../losses/index.js';
import { compileMetrics, type CompiledMetric, type MetricsArg } from './compile-metrics.js';

export interface CompileArgs {
  optimizer: string | OptimizerSpec | Optimizer;
  /** One loss for every output, a list (one per output), or a record by output name. */
  loss: LossSpec | LossSpec[] | Record<string, LossSpec>;
  /** Metrics for every output, a nested list (one entry per output), or a record by output name. Not weighted by sample weights. */
  metrics?: MetricsArg;
  /** Keras's `weighted_metrics`: as `metrics`, and weighted by the sample and class weights. */
  weightedMetrics?: MetricsArg;
  /** Scalar weights of the output losses: a list or a record by output name. */
  lossWeights?: number[] | Record<string, number>;
  /**
   * Keras's `steps_per_execution` (default 1): training batches `fit` hands
   * its runner at once. The batch callbacks then see every N-th batch (the
   * last of each run, and an epoch's last), as in Keras; the epoch logs are
   * the same. Runners that step elsewhere (data parallelism's replicas) run
   * the N steps without the main thread between them.
   */
  stepsPerExecution?: number;
}

/** A compiled training configuration, resolved against the model's outputs. */
export interface Compiled {
  args: CompileArgs;
  optimizer: Optimizer;
  losses: LossFunction[];
  lossWeights: number[];
  /** Metrics per output (each output's metrics, then its weighted metrics), with the log names Keras gives them. */
  metrics: CompiledMetric[];
  /** Training batches per runner call (see CompileArgs.stepsPerExecution). */
  stepsPerExecution: number;
}

/** Resolves `args` for a model's outputs; `outputShapes` lets 'accuracy' pick binary accuracy for a last dimension of 1, as Keras does. */
export function compile(outputNames: string[], args: CompileArgs, outputShapes: ((number | null)[] | undefined)[] = []): Compiled {
  if (args === undefined || args.optimizer === undefined)
    throw new InvalidArgumentError('compile', '{ optimizer, loss }', args);
  const optimizer = getOptimizer(args.optimizer);
  const losses = perOutput('loss', args.loss, outputNames, true).map((spec) => getLoss(spec as LossSpec));
  const lossWeights = perOutput('lossWeights', args.lossWeights ?? 1, outputNames, false).map((w, i) => {
    if (typeof w !== 'number' || !Number.isFinite(w)) throw new InvalidArgumentError(`lossWeights[${outputNames[i]}]`, 'a finite number', w);
    return w;
  });
  const metrics = compileMetrics(outputNames, losses, outputShapes, args.metrics, args.weightedMetrics);
  const stepsPerExecution = args.stepsPerExecution ?? 1;
  if (!Number.isInteger(stepsPerExecution) || stepsPerExecution < 1) throw new InvalidArgumentError('stepsPerExecution', 'an integer >= 1', stepsPerExecution);
  return { args, optimizer, losses, lossWeights, metrics, stepsPerExecution };
}

/** Spreads a per-model argument over the outputs: one value for all, a list in output order, or a record by name. */
function perOutput(argument: string, value: unknown, outputNames: string[], required: boolean): unknown[] {
  if (Array.isArray(value)) {
    if (value.length !== outputNames.length)
      throw new InvalidArgumentError(argument, `a list of ${outputNames.length} (one per output: ${outputNames.join(', ')})`, value);
    return value;
  }
  if (typeof value === 'object' && value !== null && !('class_name' in value) && !('fn' in value)) {
    const record = value as Record<string, unknown>;
    const unknown = Object.keys(record).filter((k) => !outputNames.includes(k));
    if (unknown.length) throw new InvalidArgumentError(argument, `keys among the output names ${outputNames.join(', ')}`, unknown);
    return outputNames.map((n) => {
      if (required && record[n] === undefined) throw new InvalidArgumentError(`${argument}.${n}`, 'a value for every output', undefined);
      return record[n] ?? 1;
    });
  }
  if (required && value === undefined) throw new InvalidArgumentError(argument, 'a value', undefined);
  return outputNames.map(() => value);
}
