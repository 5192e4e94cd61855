import * as t from 'io-ts';
import { intOrTuple, nullable } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { getActivation, type ActivationFn } from '../activations/index.js';
import { getRegularizer, serializeRegularizer, type Regularizer } from '../regularizers/index.js';
import { dataFormatOf, spec, type DataFormat } from './common.js';
import { convPaddingOf, intTuple, type ConvPadding } from './conv-utils.js';
import { weightFields, weightOptions, type WeightOptions } from './weight-options.js';

/**
 * The config fields of Keras's `Conv` base class that every layer of the
 * convolution family has, with the initializer, regularizer and constraint
 * of each named weight. Layers add their own (filters, groups, ...).
 */
export function convFields<N extends string>(weights: readonly N[]) {
  return t.intersection([
    t.type({ kernel_size: intOrTuple }),
    t.partial({
      strides: intOrTuple,
      padding: t.string,
      data_format: nullable(t.string),
      dilation_rate: intOrTuple,
      activation: nullable(t.string),
      use_bias: t.boolean,
      activity_regularizer: nullable(spec),
    }),
    weightFields(weights),
  ]);
}

/** What the convolution layers share, decoded and checked. */
export interface ConvBase<C> {
  where: string;
  kernelSize: number[];
  strides: number[];
  dilation: number[];
  padding: ConvPadding;
  format: DataFormat;
  activation: ActivationFn;
  activityReg: Regularizer | null;
  useBias: boolean;
  /** Channel groups (1 for layers without `groups`). */
  groups: number;
  /** Initializer, regularizer and constraint of each named weight. */
  options: Record<string, WeightOptions>;
  /** The config with the base's keys normalised as Keras's get_config writes them (the weights' keys included). */
  config: C;
}

type BaseConfig = { name: string; kernel_size: number | number[]; strides?: number | number[]; padding?: string; data_format?: string | null } & {
  dilation_rate?: number | number[];
  activation?: string | null;
  use_bias?: boolean;
  activity_regularizer?: unknown;
} & Record<string, unknown>;

export interface ConvBaseOptions {
  /** Each named weight with its default initializer ({ kernel: 'glorot_uniform', bias: 'zeros' }). */
  weights: Record<string, string>;
  /** Whether 'causal' padding is allowed (1D layers). */
  causal?: boolean;
  /** Whether the layer has `dilation_rate` (default true; LocallyConnected has none). */
  dilation?: boolean;
  /** Whether the layer has `groups` (a positive divisor of `filters`, default 1). */
  groups?: boolean;
}

/**
 * Keras's `Conv.__init__` for a decoded config `c`: `filters` (when the
 * layer has it) a positive integer, kernel size, strides and dilation as
 * `rank`-tuples of positive integers, the padding, the data format, the
 * activation, the activity regularizer, and the weights' options. Strides
 * and dilation other than 1 together are refused, as Keras does.
 */
export function convBase<C extends BaseConfig>(className: string, c: C, rank: number, o: ConvBaseOptions): ConvBase<C> {
  const where = `${className} '${c.name}'`;
  if (c.filters !== undefined && (!Number.isInteger(c.filters) || (c.filters as number) < 1))
    throw new ConfigDecodeError('filters', 'a positive integer', c.filters, where);
  const kernelSize = intTuple(c.kernel_size, 1, rank, 'kernel_size', where);
  const strides = intTuple(c.strides, 1, rank, 'strides', where);
  const dilation = intTuple(c.dilation_rate, 1, rank, 'dilation_rate', where);
  const padding = convPaddingOf(c.padding, where, o.causal ?? false);
  const format = dataFormatOf(c.data_format, where);
  const groups = o.groups ? ((c.groups as number | undefined) ?? 1) : 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ConfigDecodeError('groups', 'a positive integer', groups, where);
  if (c.filters !== undefined && (c.filters as number) % groups !== 0) throw new ConfigDecodeError('groups', `a divisor of filters (${c.filters})`, groups, where);
  if (strides.some((s) => s !== 1) && dilation.some((d) => d !== 1))
    throw new ConfigDecodeError('dilation_rate', 'all 1 when strides are not 1 (Keras does not support both)', dilation, where);
  const activityReg = getRegularizer(c.activity_regularizer as Parameters<typeof getRegularizer>[0], `${where}.activity_regularizer`);
  const useBias = c.use_bias ?? true;
  const { options, fields: w } = weightOptions(c, o.weights, where);
  const config: C = {
    ...c,
    kernel_size: kernelSize,
    strides,
    padding,
    data_format: format,
    ...(o.dilation === false ? {} : { dilation_rate: dilation }),
    ...(o.groups ? { groups } : {}),
    activation: c.activation ?? 'linear',
    use_bias: useBias,
    ...w,
    activity_regularizer: serializeRegularizer(activityReg),
  };
  return { where, kernelSize, strides, dilation, padding, format, activation: getActivation(c.activation), activityReg, useBias, groups, options, config };
}
