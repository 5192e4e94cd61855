/**
 * Summary values as TensorFlow 2's `tf.summary` writes them (what Keras's
 * TensorBoard callback calls): a tensor with the metadata that tells
 * TensorBoard which plugin (Scalars, Histograms, Text, Graphs) shows it.
 */
export interface SummaryValue {
  tag: string;
  metadata: { plugin_data: { plugin_name: string; content?: Uint8Array }; data_class: number };
  tensor: Record<string, unknown>;
}

const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DT_STRING = 7;
const DATA_CLASS_SCALAR = 1;
const DATA_CLASS_TENSOR = 2;
const shape = (...dims: number[]) => ({ dim: dims.map((size) => ({ size })) });

/** `tf.summary.scalar`: a float32 scalar for the Scalars dashboard. */
export function scalar(tag: string, value: number): SummaryValue {
  return {
    tag,
    metadata: { plugin_data: { plugin_name: 'scalars' }, data_class: DATA_CLASS_SCALAR },
    tensor: { dtype: DT_FLOAT, tensor_shape: shape(), float_val: [value] },
  };
}

/** How many buckets `tf.summary.histogram` makes by default. */
export const HISTOGRAM_BUCKETS = 30;

/**
 * `tf.summary.histogram`: a [k, 3] float64 tensor of (left edge, right
 * edge, count), `buckets` equal-width buckets from the minimum to the
 * maximum (the last bucket includes the maximum); one bucket of width 1
 * around the value when all values are equal. Non-finite values are not counted.
 */
export function histogram(tag: string, values: ArrayLike<number>, buckets = HISTOGRAM_BUCKETS): SummaryValue {
  const finite = Array.from(values).filter(Number.isFinite);
  let rows: number[][] = [];
  if (finite.length > 0) {
    let min = Infinity;
    let max = -Infinity;
    for (const v of finite) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    if (max === min) rows = [[min - 0.5, min + 0.5, finite.length]];
    else {
      const width = (max - min) / buckets;
      const counts = new Array<number>(buckets).fill(0);
      for (const v of finite) counts[Math.min(Math.floor((v - min) / width), buckets - 1)]++;
      const edge = (i: number) => min + ((max - min) * i) / buckets;
      rows = counts.map((c, i) => [edge(i), edge(i + 1), c]);
    }
  }
  const content = Buffer.from(new Float64Array(rows.flat()).buffer);
  return {
    tag,
    metadata: { plugin_data: { plugin_name: 'histograms' }, data_class: DATA_CLASS_TENSOR },
    tensor: { dtype: DT_DOUBLE, tensor_shape: shape(rows.length, 3), tensor_content: content },
  };
}

/** `tf.summary.text`: a string (Markdown) for the Text dashboard. */
export function text(tag: string, markdown: string): SummaryValue {
  return {
    tag,
    metadata: { plugin_data: { plugin_name: 'text' }, data_class: DATA_CLASS_TENSOR },
    tensor: { dtype: DT_STRING, tensor_shape: shape(), string_val: [Buffer.from(markdown, 'utf8')] },
  };
}

/** Keras's `keras_model_summary`: the model's JSON, which TensorBoard's Graphs dashboard draws as the Keras model's graph. */
export function kerasModel(json: string): SummaryValue {
  return {
    tag: 'keras',
    metadata: { plugin_data: { plugin_name: 'graph_keras_model', content: Buffer.from('1') }, data_class: DATA_CLASS_TENSOR },
    tensor: { dtype: DT_STRING, tensor_shape: shape(), string_val: [Buffer.from(json, 'utf8')] },
  };
}
