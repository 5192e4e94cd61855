import * as t from 'io-ts';
import { nullable } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { binaryCrossentropy, categoricalCrossentropy, sparseCategoricalCrossentropy } from '../losses/index.js';
import { metricFactory } from './metric.js';

/** Keras `BinaryCrossentropy` metric: the mean of the per-sample binary crossentropy. */
export const BinaryCrossentropy = metricFactory(
  'BinaryCrossentropy',
  'binary_crossentropy',
  t.partial({ from_logits: t.boolean, label_smoothing: t.number }),
  { from_logits: false, label_smoothing: 0 },
  (a) => binaryCrossentropy(a.from_logits, a.label_smoothing),
);

export const CategoricalCrossentropy = metricFactory(
  'CategoricalCrossentropy',
  'categorical_crossentropy',
  t.partial({ from_logits: t.boolean, label_smoothing: t.number, axis: t.number }),
  { from_logits: false, label_smoothing: 0, axis: -1 },
  (a) => categoricalCrossentropy(a.from_logits, a.label_smoothing, a.axis),
);

export const SparseCategoricalCrossentropy = metricFactory(
  'SparseCategoricalCrossentropy',
  'sparse_categorical_crossentropy',
  t.partial({ from_logits: t.boolean, ignore_class: nullable(t.number), axis: t.number }),
  { from_logits: false, ignore_class: null as number | null, axis: -1 },
  (a) => {
    if (a.ignore_class !== null)
      throw new ConfigDecodeError('ignore_class', 'null (ignore_class is not supported yet)', a.ignore_class, 'SparseCategoricalCrossentropy config');
    if (a.axis !== -1) throw new ConfigDecodeError('axis', '-1 (only the last axis is supported)', a.axis, 'SparseCategoricalCrossentropy config');
    return sparseCategoricalCrossentropy(a.from_logits);
  },
);
