import * as t from 'io-ts';
import { getActivation } from '../activations/index.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer } from './layer.js';

const fields = t.type({ activation: t.string });
export type ActivationArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** Keras `Activation`: applies a named activation function elementwise. */
export function Activation(args: ActivationArgs): Layer {
  const c = decodeLayerConfig('Activation', fields, args);
  const fn = getActivation(c.activation);
  return defineLayer('Activation', { ...c, activation: c.activation }, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
    apply: (_params, state, inputs) => ({ outputs: fn(inputs as never), state }),
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
  });
}
