import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer } from './layer.js';

const fields = t.partial({ mask_value: t.number });
export type MaskingArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/** 1 where any feature of a time step differs from `value`, as float (batch, ..., 1); differentiable (zero gradient). */
function keepSteps(x: ops.Tensor, value: number): ops.Tensor {
  return ops.max(ops.step(ops.abs(ops.sub(x, value))), -1, true);
}

/**
 * Keras `Masking`: time steps whose features all equal `mask_value`
 * (default 0) are masked: the output zeroes them and `computeMask` returns
 * `any(inputs != mask_value, axis=-1)` for the layers downstream (an LSTM
 * then skips those steps).
 */
export function Masking(args: MaskingArgs = {}): Layer {
  const c = decodeLayerConfig('Masking', fields, args);
  const value = c.mask_value ?? 0;
  const config = { ...c, mask_value: value };
  return defineLayer('Masking', config, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
    apply(_params, state, inputs) {
      const x = inputs as ops.Tensor;
      return { outputs: ops.tidy(() => ops.mul(x, keepSteps(x, value))), state };
    },
    computeOutputShape: (s) => s,
    computeMask: (inputs) => ops.tidy(() => ops.cast(ops.squeeze(keepSteps(inputs as ops.Tensor, value), [-1]), 'bool')),
  });
}
