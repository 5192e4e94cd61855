import * as t from 'io-ts';
import { decodeConfig, nullable, shapeCodec } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { uniqueName } from '../core/names.js';
import { inputNode } from './symbolic.js';
import { defineLayer } from './define-layer.js';
import type { Layer, Shape, SymbolicTensor } from './layer.js';

const fields = t.partial({
  name: t.string,
  batch_input_shape: shapeCodec,
  input_shape: shapeCodec,
  shape: shapeCodec,
  batch_size: nullable(t.number),
  dtype: nullable(t.string),
  sparse: nullable(t.boolean),
  ragged: t.boolean,
});
export type InputArgs = t.TypeOf<typeof fields>;

/** Keras `InputLayer`: the graph's entry point; it passes its input through. */
export function InputLayer(args: InputArgs): Layer {
  const c = decodeConfig(fields, args, 'InputLayer config');
  const shape = c.shape ?? c.input_shape;
  const batchInputShape: Shape | undefined = c.batch_input_shape ?? (shape ? [c.batch_size ?? null, ...shape] : undefined);
  if (!batchInputShape) throw new ConfigDecodeError('batch_input_shape', 'a shape (or input_shape / shape)', undefined, 'InputLayer config');
  const config = {
    batch_input_shape: batchInputShape,
    dtype: c.dtype ?? 'float32',
    sparse: c.sparse ?? false,
    ragged: c.ragged ?? false,
    name: c.name ?? uniqueName('input', false),
    trainable: true,
  };
  return defineLayer('InputLayer', config, {
    init: () => ({ params: {}, state: {}, outputShape: batchInputShape }),
    apply: (_p, state, inputs) => ({ outputs: inputs, state }),
    computeOutputShape: () => batchInputShape,
  });
}

/** Keras `Input(shape=...)`: a symbolic tensor to build functional models from. */
export function Input(args: InputArgs): SymbolicTensor {
  const layer = InputLayer(args);
  return inputNode(layer, layer.config.batch_input_shape as Shape);
}
