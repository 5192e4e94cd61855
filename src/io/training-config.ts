import { ConfigDecodeError, InvalidArgumentError, RxKerasError } from '../core/errors.js';
import { getLoss } from '../losses/index.js';
import { getMetric } from '../metrics/index.js';
import type { CompileArgs } from '../training/compile.js';
import type { MetricsArg } from '../training/compile-metrics.js';
import { relocate } from './relocate.js';

type Serialised = { class_name: string; config?: Record<string, unknown> };

/**
 * The loss and metrics of a `training_config`, as Keras's
 * `compile_args_from_training_config` reads them: in `loss`, `metrics` and
 * `weighted_metrics`, every serialised `{ class_name, config }`, at any
 * depth of their lists and dicts, is deserialised (a loss by `getLoss`, a
 * metric by `getMetric`: tf.keras 2.4 saves the metrics `compile` built, as
 * `[[{ class_name: 'MeanMetricWrapper', config: { fn, name } }]]`); names
 * stay names, for `compile` to resolve (`'accuracy'` from the output
 * shapes). Errors name the field's path in the training config.
 */
export function lossAndMetrics(tc: Record<string, unknown>, where: string): Pick<CompileArgs, 'loss' | 'metrics' | 'weightedMetrics'> {
  if (tc.loss === undefined || tc.loss === null) throw new ConfigDecodeError('loss', 'a loss', tc.loss, where);
  const out: Pick<CompileArgs, 'loss' | 'metrics' | 'weightedMetrics'> = { loss: deserialise(tc.loss, 'loss', where, getLoss) as CompileArgs['loss'] };
  const metrics = deserialise(tc.metrics, 'metrics', where, getMetric) as MetricsArg;
  if (metrics !== null) out.metrics = metrics;
  const weighted = deserialise(tc.weighted_metrics, 'weighted_metrics', where, getMetric) as MetricsArg;
  if (weighted !== null) out.weightedMetrics = weighted;
  return out;
}

/** Keras's `_deserialize_nested_config`: serialised objects and names are leaves; lists and dicts are walked; `null` stays. */
function deserialise(value: unknown, path: string, where: string, leaf: (spec: Serialised) => unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v, i) => deserialise(v, `${path}.${i}`, where, leaf));
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.class_name === 'string') {
      if (record.config !== undefined && (typeof record.config !== 'object' || record.config === null || Array.isArray(record.config)))
        throw new ConfigDecodeError(`${path}.config`, 'an object', record.config, where);
      try {
        return leaf({ class_name: record.class_name, config: { ...((record.config ?? {}) as Record<string, unknown>) } });
      } catch (e) {
        throw relocate(e, `${path}.config`, where);
      }
    }
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, deserialise(v, `${path}.${k}`, where, leaf)]));
  }
  throw new ConfigDecodeError(path, 'a name, a serialised { class_name, config }, or a list or dict of them', value, where);
}

/** An error `compile` threw for a file's compile arguments, placed at its field of the training config (`weightedMetrics` is `weighted_metrics` there). */
export function compileArgsError(e: unknown, where: string): RxKerasError {
  if (e instanceof InvalidArgumentError) {
    const field = e.argument.replace(/^weightedMetrics/, 'weighted_metrics').replace(/^lossWeights/, 'loss_weights');
    return new ConfigDecodeError(field, e.expected, e.found, where);
  }
  return e instanceof RxKerasError ? e : relocate(e, '(root)', where);
}
