import { InvalidArgumentError } from '../core/errors.js';
import type { Predictor } from './micro-batch.js';

type Shape = readonly (number | null)[];

/** One named input or output: its shape with the batch dimension first (null: any size) and its dtype. */
export interface TensorSpec {
  name: string;
  shape: (number | null)[];
  dtype: 'float32' | 'int32';
}

/** What a served model takes and gives, as TF Serving's `serving_default` signature. */
export interface Signature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** What serving needs of a model: `predict`, and its symbolic inputs and outputs (a functional or built Sequential `Model` has them). */
export interface ServableModel extends Predictor {
  readonly inputs: readonly { readonly shape: Shape; readonly node: { readonly layer: { readonly name: string; readonly config: object } } }[];
  readonly outputs: readonly { readonly shape: Shape; readonly node: { readonly layer: { readonly name: string } } }[];
}

/**
 * The signature a Keras model exported to a SavedModel gets: inputs keyed by
 * their input layer's name, outputs by their output layer's name (made
 * unique with `_1`, `_2`, ... as Keras does), float32 unless an input layer
 * says int32.
 */
export function signatureOf(model: ServableModel): Signature {
  let inputs: ServableModel['inputs'];
  let outputs: ServableModel['outputs'];
  try {
    inputs = model.inputs;
    outputs = model.outputs;
  } catch (e) {
    throw new InvalidArgumentError('model', 'a model whose input shape is known (give the first layer input_shape)', (e as Error).message);
  }
  return {
    inputs: inputs.map((t) => {
      const dtype = (t.node.layer.config as { dtype?: unknown }).dtype;
      return { name: t.node.layer.name, shape: [...t.shape], dtype: dtype === 'int32' || dtype === 'int64' ? 'int32' : 'float32' };
    }),
    outputs: unique(outputs.map((t) => t.node.layer.name)).map((name, i) => ({ name, shape: [...outputs[i].shape], dtype: 'float32' })),
  };
}

function unique(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = seen.get(n) ?? 0;
    seen.set(n, k + 1);
    return k === 0 ? n : `${n}_${k}`;
  });
}
