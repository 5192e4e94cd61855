import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { intOrTuple, nullable } from '../core/config.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { checkRank, spec } from './common.js';
import { convLength, joinShape, knownChannels, splitShape } from './conv-utils.js';
import { convBase } from './conv-base.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, Shape } from './layer.js';
import { initWeight, weightFields, weightHooks } from './weight-options.js';

const fields = t.intersection([
  t.type({ filters: t.number, kernel_size: intOrTuple }),
  t.partial({
    strides: intOrTuple,
    padding: t.string,
    data_format: nullable(t.string),
    activation: nullable(t.string),
    use_bias: t.boolean,
    activity_regularizer: nullable(spec),
    implementation: t.number,
  }),
  weightFields(['kernel', 'bias']),
]);
export type LocallyConnectedArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `LocallyConnected1D` / `LocallyConnected2D` (implementation 1, the
 * default; the only one whose weights are stored this way): a convolution
 * without weight sharing. `kernel` (output positions, prod(kernel_size) *
 * in_channels, filters), each row a flattened input patch in the input's
 * own axis order ((k..., channels) channels_last, (channels, k...)
 * channels_first), as Keras's `local_conv`; `bias` (...output dims, filters),
 * added for channels_first by a plain reshape to (filters, ...output dims),
 * as Keras's `bias_add` does. Padding 'valid' only (Keras's rule for
 * implementation 1).
 */
function locallyConnected(rank: 1 | 2, className: 'LocallyConnected1D' | 'LocallyConnected2D', args: LocallyConnectedArgs): Layer {
  const c = decodeLayerConfig(className, fields, args);
  const { where, kernelSize, strides, format, activation, activityReg, useBias, options, config: base } = convBase(className, c, rank, {
    weights: { kernel: 'glorot_uniform', bias: 'zeros' },
    dilation: false,
  });
  const implementation = c.implementation ?? 1;
  if (implementation !== 1)
    throw new ConfigDecodeError('implementation', '1 (implementations 2 and 3 store their kernels differently; not supported)', implementation, where);
  if (base.padding !== 'valid') throw new ConfigDecodeError('padding', "'valid' (the only padding of implementation 1)", c.padding, where);
  const config = { ...base, implementation };

  const outSpatial = (spatial: (number | null)[]) => spatial.map((d, i) => convLength(d, kernelSize[i], 'valid', strides[i]));
  const outShape = (s: Shape): Shape => {
    const { batch, spatial } = splitShape(s, rank, format, where);
    return joinShape(batch, outSpatial(spatial), c.filters, format);
  };
  const spatialAxes = format === 'channels_last' ? kernelSize.map((_, i) => i + 1) : kernelSize.map((_, i) => i + 2);

  /** Strided slice of every output position at one kernel tap: (batch, ...out, channels-axis in place). */
  const tap = (x: ops.Tensor, offsets: number[], out: number[]): ops.Tensor => {
    let y = x;
    spatialAxes.forEach((axis, i) => {
      const s = strides[i];
      const begin = y.shape.map(() => 0);
      const size = [...y.shape];
      begin[axis] = offsets[i];
      size[axis] = Math.min((out[i] - 1) * s + 1 + (s - 1), y.shape[axis] - offsets[i]);
      y = ops.slice(y, begin, size);
      if (s > 1) {
        // Keep every s-th element: pad to out*s, fold (out, s), take index 0.
        const padTo = out[i] * s - size[axis];
        if (padTo > 0) y = ops.pad(y, y.shape.map((_, j): [number, number] => (j === axis ? [0, padTo] : [0, 0])));
        const folded = [...y.shape.slice(0, axis), out[i], s, ...y.shape.slice(axis + 1)];
        y = ops.reshape(y, folded);
        const b = folded.map(() => 0);
        const sz = [...folded];
        sz[axis + 1] = 1;
        y = ops.reshape(ops.slice(y, b, sz), [...folded.slice(0, axis + 1), ...folded.slice(axis + 2)]);
      }
    });
    return y;
  };

  return defineLayer(className, config, {
    init(key, inputShape) {
      const s = inputShape as Shape;
      const channels = knownChannels(s, rank, format, where);
      const out = outSpatial(splitShape(s, rank, format, where).spatial);
      if (out.some((d) => d === null || d <= 0))
        throw new ShapeMismatchError(`${where}: the spatial dimensions must be known and at least kernel_size`, `spatial dims >= ${kernelSize.join('x')}`, s);
      const positions = (out as number[]).reduce((a, b) => a * b, 1);
      const feature = kernelSize.reduce((a, b) => a * b, 1) * channels;
      const params: Record<string, ops.Tensor> = { kernel: initWeight(options.kernel, key, 'kernel', [positions, feature, c.filters]) };
      if (useBias) params.bias = initWeight(options.bias, key, 'bias', [...(out as number[]), c.filters]);
      return { params, state: {}, outputShape: outShape(s) };
    },
    apply(params, state, inputs) {
      const x = inputs as ops.Tensor;
      checkRank(x, rank + 2, where);
      const outputs = ops.tidy(() => {
        const n = x.shape[0];
        const { spatial, channels } = splitShape(x.shape, rank, format, where) as { spatial: number[]; channels: number };
        const out = outSpatial(spatial) as number[];
        const positions = out.reduce((a, b) => a * b, 1);
        const taps: number[][] = rank === 1 ? Array.from({ length: kernelSize[0] }, (_, i) => [i]) : [];
        if (rank === 2) for (let i = 0; i < kernelSize[0]; i++) for (let j = 0; j < kernelSize[1]; j++) taps.push([i, j]);
        // (batch, ...out, channels, taps) for channels_last patch order (taps, channels) after a transpose, and the reverse for channels_first.
        const slices = taps.map((o) => tap(x, o, out));
        let patches: ops.Tensor;
        if (format === 'channels_last') {
          // each slice (batch, ...out, channels) -> stack on a new axis before channels: (batch, ...out, taps, channels)
          patches = ops.stack(slices, rank + 1);
          patches = ops.reshape(patches, [n, positions, taps.length * channels]);
        } else {
          // each slice (batch, channels, ...out) -> (batch, channels, taps, ...out) -> (batch, ...out, channels, taps)
          const st = ops.stack(slices, 2);
          const perm = [0, ...out.map((_, i) => i + 3), 1, 2];
          patches = ops.reshape(ops.transpose(st, perm), [n, positions, channels * taps.length]);
        }
        // (positions, batch, feature) @ (positions, feature, filters) -> (positions, batch, filters)
        let y = ops.matMul(ops.transpose(patches, [1, 0, 2]), params.kernel);
        y = ops.reshape(y, [...out, n, c.filters]);
        const perm =
          format === 'channels_last' ? [rank, ...out.map((_, i) => i), rank + 1] : [rank, rank + 1, ...out.map((_, i) => i)];
        y = ops.transpose(y, perm);
        if (useBias) {
          const b = params.bias;
          y = ops.add(y, format === 'channels_last' ? ops.expandDims(b, 0) : ops.reshape(b, [1, c.filters, ...out]));
        }
        return activation(y);
      });
      return { outputs, state };
    },
    computeOutputShape: (s) => outShape(s as Shape),
    ...weightHooks(options, activityReg),
  });
}

/** Keras `LocallyConnected1D`. */
export function LocallyConnected1D(args: LocallyConnectedArgs): Layer {
  return locallyConnected(1, 'LocallyConnected1D', args);
}

/** Keras `LocallyConnected2D`. */
export function LocallyConnected2D(args: LocallyConnectedArgs): Layer {
  return locallyConnected(2, 'LocallyConnected2D', args);
}
