/**
 * Keras 1 class names and keyword arguments rewritten into Keras 2's, per
 * layer class, as the `legacy_*_support` decorators of Keras 2's `keras/legacy/interfaces.py` do
 * when a Keras 1 config reaches a Keras 2 constructor. Like those decorators
 * the renames apply to every config (a Keras 2 config has none of the old
 * keys), so a file needs no version to be read. Wrapped layers (`Bidirectional`,
 * `TimeDistributed`) are converted by the caller, as Keras converts them when
 * the wrapper deserialises its inner layer.
 */

import { ConfigDecodeError } from '../core/errors.js';

type Renames = readonly (readonly [string, string])[];

const DIM_ORDERING: Record<string, string | null> = { tf: 'channels_last', th: 'channels_first', default: null };

const WEIGHTS: Renames = [
  ['init', 'kernel_initializer'],
  ['W_regularizer', 'kernel_regularizer'],
  ['b_regularizer', 'bias_regularizer'],
  ['W_constraint', 'kernel_constraint'],
  ['b_constraint', 'bias_constraint'],
  ['bias', 'use_bias'],
];
const CONV: Renames = [['nb_filter', 'filters'], ['subsample', 'strides'], ['border_mode', 'padding'], ['dim_ordering', 'data_format'], ...WEIGHTS];
const POOLING_ND: Renames = [['border_mode', 'padding'], ['dim_ordering', 'data_format']];
const DIM: Renames = [['dim_ordering', 'data_format']];
const RECURRENT: Renames = [
  ['output_dim', 'units'],
  ['init', 'kernel_initializer'],
  ['inner_init', 'recurrent_initializer'],
  ['inner_activation', 'recurrent_activation'],
  ['W_regularizer', 'kernel_regularizer'],
  ['b_regularizer', 'bias_regularizer'],
  ['U_regularizer', 'recurrent_regularizer'],
  ['dropout_W', 'dropout'],
  ['dropout_U', 'recurrent_dropout'],
  ['consume_less', 'implementation'],
];

/** Each class's renames (interfaces.py's `conversions`), by the Keras 2 class name or alias the file names. */
const RENAMES: Record<string, Renames> = {
  Dense: [['output_dim', 'units'], ...WEIGHTS],
  Dropout: [['p', 'rate']],
  GaussianDropout: [['p', 'rate']],
  GaussianNoise: [['sigma', 'stddev']],
  SpatialDropout1D: [['p', 'rate']],
  SpatialDropout2D: [['p', 'rate'], ...DIM],
  SpatialDropout3D: [['p', 'rate'], ...DIM],
  Embedding: [['init', 'embeddings_initializer'], ['W_regularizer', 'embeddings_regularizer'], ['W_constraint', 'embeddings_constraint']],
  PReLU: [['init', 'alpha_initializer']],
  BatchNormalization: [['beta_init', 'beta_initializer'], ['gamma_init', 'gamma_initializer']],
  SimpleRNN: RECURRENT,
  GRU: RECURRENT,
  LSTM: RECURRENT,
  ConvLSTM2D: [...CONV, ['inner_init', 'recurrent_initializer'], ['U_regularizer', 'recurrent_regularizer'], ['inner_activation', 'recurrent_activation'], ['dropout_W', 'dropout'], ['dropout_U', 'recurrent_dropout']],
  Conv1D: [['nb_filter', 'filters'], ['filter_length', 'kernel_size'], ['subsample_length', 'strides'], ['border_mode', 'padding'], ...WEIGHTS],
  Conv2D: CONV,
  Conv3D: CONV,
  Conv2DTranspose: CONV,
  SeparableConv2D: [['nb_filter', 'filters'], ['subsample', 'strides'], ['border_mode', 'padding'], ['dim_ordering', 'data_format'], ['b_regularizer', 'bias_regularizer'], ['b_constraint', 'bias_constraint'], ['bias', 'use_bias']],
  MaxPooling1D: [['pool_length', 'pool_size'], ['stride', 'strides'], ['border_mode', 'padding']],
  AveragePooling1D: [['pool_length', 'pool_size'], ['stride', 'strides'], ['border_mode', 'padding']],
  MaxPooling2D: POOLING_ND,
  AveragePooling2D: POOLING_ND,
  MaxPooling3D: POOLING_ND,
  AveragePooling3D: POOLING_ND,
  GlobalMaxPooling2D: DIM,
  GlobalAveragePooling2D: DIM,
  GlobalMaxPooling3D: DIM,
  GlobalAveragePooling3D: DIM,
  UpSampling1D: [['length', 'size']],
  UpSampling2D: DIM,
  UpSampling3D: DIM,
  ZeroPadding2D: DIM,
  ZeroPadding3D: DIM,
  Cropping2D: DIM,
  Cropping3D: DIM,
};
const KERAS1_CLASS: Record<string, string> = {
  Convolution1D: 'Conv1D',
  Convolution2D: 'Conv2D',
  Convolution3D: 'Conv3D',
  Deconvolution2D: 'Conv2DTranspose',
  AtrousConvolution1D: 'Conv1D',
  AtrousConvolution2D: 'Conv2D',
  SeparableConvolution2D: 'SeparableConv2D',
};
const RECURRENT_CLASSES = new Set(['SimpleRNN', 'GRU', 'LSTM']);

/** A Keras 1 layer (class name and config) in Keras 2's class names and keyword arguments. */
export function legacyLayer(className: string, config: Record<string, unknown>): { className: string; config: Record<string, unknown> } {
  const cls = KERAS1_CLASS[className] ?? className;
  const c: Record<string, unknown> = { ...config };
  const rename = (from: string, to: string) => {
    if (!(from in c)) return;
    if (!(to in c)) c[to] = c[from];
    delete c[from];
  };
  rename('input_dtype', 'dtype'); // Keras 2's base Layer still reads `input_dtype`
  if (c.dim_ordering !== undefined) c.dim_ordering = DIM_ORDERING[c.dim_ordering as string] ?? c.dim_ordering;
  if (c.consume_less !== undefined) c.consume_less = { cpu: 0, mem: 1, gpu: 2 }[c.consume_less as string] ?? c.consume_less;
  preprocess(cls, c);
  for (const [from, to] of RENAMES[cls] ?? []) rename(from, to);
  if (className.startsWith('Atrous')) rename('atrous_rate', 'dilation_rate');
  if (c.data_format === null) delete c.data_format;
  if (c.input_dim === null) delete c.input_dim;
  return { className: cls, config: c };
}

/** Whether a config uses Keras 1 argument names for its class (then Keras 1 wrote it, whatever the file says). */
export function isKeras1Config(className: string, config: Record<string, unknown>): boolean {
  const cls = KERAS1_CLASS[className] ?? className;
  return cls !== className || (RENAMES[cls] ?? []).some(([from]) => from in config) || 'input_dtype' in config;
}

/** The argument preprocessors of interfaces.py that do more than rename. */
function preprocess(cls: string, c: Record<string, unknown>): void {
  if (RECURRENT_CLASSES.has(cls) || cls === 'ConvLSTM2D') {
    // recurrent_args_preprocessor: forget_bias_init 'one' is unit_forget_bias; other values are ignored
    if ('forget_bias_init' in c) {
      if (c.forget_bias_init === 'one' && !('unit_forget_bias' in c)) c.unit_forget_bias = true;
      delete c.forget_bias_init;
    }
  }
  if ((RECURRENT_CLASSES.has(cls) || cls === 'Conv1D') && typeof c.input_dim === 'number' && !('input_shape' in c)) {
    // recurrent_args_preprocessor / conv1d_args_preprocessor: input_dim + input_length -> input_shape
    c.input_shape = [c.input_length ?? null, c.input_dim];
    delete c.input_dim;
    delete c.input_length;
  }
  if (cls === 'Conv2D' || cls === 'Conv2DTranspose' || cls === 'SeparableConv2D' || cls === 'ConvLSTM2D') {
    if ('nb_row' in c && 'nb_col' in c) {
      if (!('kernel_size' in c)) c.kernel_size = [c.nb_row, c.nb_col];
      delete c.nb_row;
      delete c.nb_col;
    }
  }
  if (cls === 'Conv3D' && 'kernel_dim1' in c && 'kernel_dim2' in c && 'kernel_dim3' in c) {
    if (!('kernel_size' in c)) c.kernel_size = [c.kernel_dim1, c.kernel_dim2, c.kernel_dim3];
    delete c.kernel_dim1;
    delete c.kernel_dim2;
    delete c.kernel_dim3;
  }
  if (cls === 'SeparableConv2D' && 'init' in c) {
    c.depthwise_initializer ??= c.init;
    c.pointwise_initializer ??= c.init;
    delete c.init;
  }
  if (cls === 'Conv2DTranspose') delete c.output_shape; // deconv2d_args_preprocessor
  if (cls === 'Embedding') delete c.dropout; // embedding_kwargs_preprocessor: no longer an Embedding argument
  if (cls === 'BatchNormalization' && 'mode' in c) {
    // batchnorm_args_preprocessor: Keras 2 has only Keras 1's mode 0
    if (c.mode !== 0) throw new ConfigDecodeError('mode', '0 (Keras 2 removed BatchNormalization modes 1 and 2)', c.mode);
    delete c.mode;
  }
  if (cls === 'ZeroPadding2D' && isPadDict(c.padding)) {
    const p = c.padding;
    c.padding = [
      [p.top_pad ?? 0, p.bottom_pad ?? 0],
      [p.left_pad ?? 0, p.right_pad ?? 0],
    ];
  }
}

function isPadDict(x: unknown): x is Record<'top_pad' | 'bottom_pad' | 'left_pad' | 'right_pad', number | undefined> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  return Object.keys(x).every((k) => ['top_pad', 'bottom_pad', 'left_pad', 'right_pad'].includes(k));
}
