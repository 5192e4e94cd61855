import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer } from './layer.js';

const fields = t.partial({ max_value: nullable(t.number), negative_slope: t.number, threshold: t.number });
export type ReLUArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras's `backend.relu(x, alpha, max_value, threshold)`:
 * `x` for threshold <= x < max_value, `max_value` above it, and
 * `negative_slope * (x - threshold)` below the threshold.
 */
export function kerasRelu(x: ops.Tensor, alpha: number, maxValue: number | null, threshold: number): ops.Tensor {
  return ops.tidy(() => {
    if (alpha !== 0 && maxValue === null && threshold === 0) return ops.leakyRelu(x, alpha);
    const negativePart = alpha !== 0 ? ops.relu(threshold !== 0 ? ops.add(ops.neg(x), threshold) : ops.neg(x)) : null;
    let clipMax = maxValue !== null;
    let y: ops.Tensor;
    // x where x > threshold: step(x - threshold) is that mask, with a zero gradient (tfjs comparisons have none).
    if (threshold !== 0) y = ops.mul(x, ops.step(ops.sub(x, threshold)));
    else if (maxValue === 6) {
      y = ops.relu6(x);
      clipMax = false;
    } else y = ops.relu(x);
    if (clipMax) y = ops.clipByValue(y, 0, maxValue as number);
    if (negativePart) y = ops.sub(y, ops.mul(alpha, negativePart));
    return y;
  });
}

/** Keras `ReLU` (max_value null, negative_slope 0, threshold 0 by default). */
export function ReLU(args: ReLUArgs = {}): Layer {
  const c = decodeLayerConfig('ReLU', fields, args);
  const where = `ReLU '${c.name}'`;
  const maxValue = c.max_value ?? null;
  const negativeSlope = c.negative_slope ?? 0;
  const threshold = c.threshold ?? 0;
  if (maxValue !== null && maxValue < 0) throw new ConfigDecodeError('max_value', 'a non-negative number or null', maxValue, where);
  if (negativeSlope < 0) throw new ConfigDecodeError('negative_slope', 'a non-negative number', negativeSlope, where);
  const config = { ...c, max_value: maxValue, negative_slope: negativeSlope, threshold };
  return defineLayer('ReLU', config, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: inputShape }),
    apply: (_params, state, inputs) => ({ outputs: kerasRelu(inputs as ops.Tensor, negativeSlope, maxValue, threshold), state }),
    computeOutputShape: (s) => s,
    computeMask: (_inputs, mask) => mask ?? null,
  });
}
