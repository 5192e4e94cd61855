import { InvalidArgumentError } from '../core/errors.js';
import type { LossFunction } from '../losses/index.js';
import { resolveMetric, type Metric, type MetricSpec } from '../metrics/index.js';

/**
 * Metrics as Keras's `compile` takes them (`metrics` or `weighted_metrics`):
 * one metric, a list for every output, a nested list with one entry per
 * output, or a record by output name; `null` is no metric.
 */
export type MetricsArg = MetricSpec | null | readonly MetricsArg[] | { readonly [output: string]: MetricsArg };

/** One compiled metric: its output, its log name, and whether sample weights count (`weighted_metrics`). */
export interface CompiledMetric {
  output: number;
  name: string;
  metric: Metric;
  weighted: boolean;
}

/**
 * Resolves `metrics` and `weightedMetrics` for the outputs as tf.keras 2's
 * `MetricsContainer` does. Each output lists its metrics, then its weighted
 * metrics; a multi-output model prefixes the output name (`dense_1_acc`),
 * and a weighted metric whose name is taken becomes `weighted_acc`
 * (`dense_1_weighted_acc`). Two metrics with one name are refused.
 */
export function compileMetrics(
  outputNames: string[],
  losses: LossFunction[],
  outputShapes: ((number | null)[] | undefined)[],
  metrics: MetricsArg | undefined,
  weightedMetrics: MetricsArg | undefined,
): CompiledMetric[] {
  const plain = metricsPerOutput('metrics', metrics, outputNames);
  const weighted = metricsPerOutput('weightedMetrics', weightedMetrics, outputNames);
  const multi = outputNames.length > 1;
  const taken = new Set<string>();
  const out: CompiledMetric[] = [];
  const add = (output: number, name: string, metric: Metric, isWeighted: boolean) => {
    if (taken.has(name)) throw new InvalidArgumentError(isWeighted ? 'weightedMetrics' : 'metrics', 'metrics with different names (as Keras requires)', `two metrics named '${name}'`);
    taken.add(name);
    out.push({ output, name, metric, weighted: isWeighted });
  };
  outputNames.forEach((outputName, output) => {
    const resolve = (spec: MetricSpec) => resolveMetric(spec, losses[output], { yPred: outputShapes[output] });
    for (const spec of plain[output]) {
      const metric = resolve(spec);
      add(output, multi ? `${outputName}_${metric.name}` : metric.name, metric, false);
    }
    for (const spec of weighted[output]) {
      const metric = resolve(spec);
      const name = multi
        ? `${outputName}_${taken.has(`${outputName}_${metric.name}`) ? 'weighted_' : ''}${metric.name}`
        : `${taken.has(metric.name) ? 'weighted_' : ''}${metric.name}`;
      add(output, name, metric, true);
    }
  });
  return out;
}

/**
 * The metrics of each output, spread as tf.keras 2 spreads them: a single
 * metric or a flat list applies to every output; a record maps output names
 * (an output it does not name gets none; a key that names no output is
 * refused); a nested list has one entry per output, except that a
 * single-output model takes every metric in it (Keras flattens it).
 */
function metricsPerOutput(argument: string, arg: MetricsArg | undefined, outputNames: string[]): MetricSpec[][] {
  if (arg === undefined || arg === null) return outputNames.map(() => []);
  if (isMetricSpec(arg)) return outputNames.map(() => [arg]);
  if (isList(arg)) {
    const nested = arg.some((x) => x !== null && !isMetricSpec(x));
    if (!nested || outputNames.length === 1) {
      const all = flatten(arg, argument);
      return outputNames.map(() => all);
    }
    if (arg.length !== outputNames.length)
      throw new InvalidArgumentError(argument, `a list of ${outputNames.length} entries, one per output (${outputNames.join(', ')})`, arg);
    return arg.map((x, i) => flatten(x, `${argument}[${i}]`));
  }
  const record = arg as { readonly [output: string]: MetricsArg };
  const unknown = Object.keys(record).filter((k) => !outputNames.includes(k));
  if (unknown.length) throw new InvalidArgumentError(argument, `keys among the output names ${outputNames.join(', ')}`, unknown);
  return outputNames.map((n) => flatten(record[n], `${argument}.${n}`));
}

/** A single metric: a name, a function, a metric or loss value, or a serialised `{ class_name, config }`. */
function isMetricSpec(x: unknown): x is MetricSpec {
  if (typeof x === 'string' || typeof x === 'function') return true;
  return typeof x === 'object' && x !== null && !Array.isArray(x) && ('class_name' in x || 'className' in x);
}

function isList(x: MetricsArg): x is readonly MetricsArg[] {
  return Array.isArray(x);
}

/** Every metric in a structure, in Keras's `nest.flatten` order (lists in order, records by sorted key); `null` dropped. */
function flatten(x: MetricsArg | undefined, path: string): MetricSpec[] {
  if (x === undefined || x === null) return [];
  if (isMetricSpec(x)) return [x];
  if (isList(x)) return x.flatMap((y, i) => flatten(y, `${path}[${i}]`));
  if (typeof x === 'object') {
    const record = x as { readonly [key: string]: MetricsArg };
    return Object.keys(record)
      .sort()
      .flatMap((k) => flatten(record[k], `${path}.${k}`));
  }
  throw new InvalidArgumentError(path, 'a metric (a name, a function, a metric, or { class_name, config }), or a list or record of them', x);
}
