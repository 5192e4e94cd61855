import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import type { Shape } from './layer.js';

/** A Keras initializer / regularizer / constraint spec: a name or `{ class_name, config }`. */
export const spec = t.union([t.string, t.intersection([t.type({ class_name: t.string }), t.partial({ config: t.UnknownRecord })])]);

export type DataFormat = 'channels_last' | 'channels_first';
export type Padding = 'valid' | 'same';

/** Keras's `normalize_data_format`: null means the image data format, 'channels_last'. */
export function dataFormatOf(value: string | null | undefined, where: string): DataFormat {
  const v = (value ?? 'channels_last').toLowerCase();
  if (v !== 'channels_last' && v !== 'channels_first')
    throw new ConfigDecodeError('data_format', "'channels_last' or 'channels_first'", value, where);
  return v;
}

/** Keras's `normalize_padding` for 2D layers (case-insensitive 'valid' | 'same'). */
export function paddingOf(value: string | undefined, where: string): Padding {
  const v = (value ?? 'valid').toLowerCase();
  if (v !== 'valid' && v !== 'same') throw new ConfigDecodeError('padding', "'valid' or 'same'", value, where);
  return v;
}

/** Integers >= `min` in a tuple field; a ConfigDecodeError names the field otherwise. */
export function checkPositive(values: number[], field: string, where: string, min = 1): number[] {
  if (values.some((v) => !Number.isInteger(v) || v < min))
    throw new ConfigDecodeError(field, `integers >= ${min}`, values, where);
  return values;
}

/** Keras's `conv_utils.conv_output_length` (null stays null). */
export function convOutputLength(length: number | null, filter: number, padding: Padding, stride: number, dilation = 1): number | null {
  if (length === null) return null;
  const dilated = (filter - 1) * dilation + 1;
  const out = padding === 'same' ? length : length - dilated + 1;
  return Math.floor((out + stride - 1) / stride);
}

/** The batch and spatial dims and channels of a 4D shape, in (rows, cols, channels) order. */
export function spatial2d(shape: Shape, format: DataFormat, where: string): { batch: number | null; rows: number | null; cols: number | null; channels: number | null } {
  if (shape.length !== 4) throw new ShapeMismatchError(where, 'a 4D input (batch, rows, cols, channels) or channels first', shape);
  return format === 'channels_last'
    ? { batch: shape[0], rows: shape[1], cols: shape[2], channels: shape[3] }
    : { batch: shape[0], rows: shape[2], cols: shape[3], channels: shape[1] };
}

/** A 4D shape from (batch, rows, cols, channels) in the given data format. */
export function shape2d(batch: number | null, rows: number | null, cols: number | null, channels: number | null, format: DataFormat): Shape {
  return format === 'channels_last' ? [batch, rows, cols, channels] : [batch, channels, rows, cols];
}

/** Channels-first to channels-last (NCHW to NHWC), a no-op for channels_last. */
export function toNHWC(x: ops.Tensor, format: DataFormat): ops.Tensor4D {
  return (format === 'channels_first' ? ops.transpose(x, [0, 2, 3, 1]) : x) as ops.Tensor4D;
}

/** NHWC back to the layer's data format. */
export function fromNHWC(x: ops.Tensor, format: DataFormat): ops.Tensor4D {
  return (format === 'channels_first' ? ops.transpose(x, [0, 3, 1, 2]) : x) as ops.Tensor4D;
}

/** Checks a concrete input against the rank a layer expects. */
export function checkRank(x: ops.Tensor, rank: number, where: string): void {
  if (x.rank !== rank) throw new ShapeMismatchError(where, `a rank-${rank} input`, x.shape);
}
