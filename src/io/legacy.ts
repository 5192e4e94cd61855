/**
 * Keras 1.2 layer configs, rewritten into Keras 2's keyword arguments (what
 * Keras 2's `legacy_support` interfaces do) for the layers whose argument
 * names changed: Dense, Convolution2D / Conv2D, pooling, Dropout, and the
 * `input_dtype` / `init` / `W_regularizer` family. Applied when the file says
 * Keras 1, or when a config carries Keras-1-only keys (`output_dim`,
 * `nb_filter`, `border_mode`, `p`).
 */
export function legacyLayerConfig(className: string, config: Record<string, unknown>, keras1: boolean): Record<string, unknown> {
  const looksLegacy =
    keras1 || 'output_dim' in config || 'nb_filter' in config || 'border_mode' in config || 'W_regularizer' in config || 'input_dtype' in config;
  if (!looksLegacy) return config;
  const c: Record<string, unknown> = { ...config };
  const rename = (from: string, to: string, f: (v: unknown) => unknown = (v) => v) => {
    if (from in c) {
      if (!(to in c)) c[to] = f(c[from]);
      delete c[from];
    }
  };
  rename('input_dtype', 'dtype');
  rename('init', 'kernel_initializer');
  rename('inner_init', 'recurrent_initializer');
  rename('W_regularizer', 'kernel_regularizer');
  rename('b_regularizer', 'bias_regularizer');
  rename('W_constraint', 'kernel_constraint');
  rename('b_constraint', 'bias_constraint');
  rename('bias', 'use_bias');
  rename('border_mode', 'padding');
  rename('subsample', 'strides');
  rename('subsample_length', 'strides');
  rename('dim_ordering', 'data_format', (v) => (v === 'th' ? 'channels_first' : v === 'tf' ? 'channels_last' : v));
  rename('output_dim', 'units');
  rename('nb_filter', 'filters');
  if ('nb_row' in c && 'nb_col' in c) {
    if (!('kernel_size' in c)) c.kernel_size = [c.nb_row, c.nb_col];
    delete c.nb_row;
    delete c.nb_col;
  }
  rename('filter_length', 'kernel_size');
  if (className === 'Dropout' || className === 'SpatialDropout2D') rename('p', 'rate');
  if (c.input_dim === null) delete c.input_dim;
  if (c.data_format === 'default') delete c.data_format;
  return c;
}
