import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { intOrTuple, nullable, tupleOf } from '../core/config.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { foldIn } from '../core/rng.js';
import { getActivation } from '../activations/index.js';
import { checkPositive, convOutputLength, dataFormatOf, paddingOf } from './common.js';
import { cellExtras, cellWeightFields, cellWeights, decodeRecurrentConfig, defineRecurrent, range, type RecurrentLayer } from './rnn-core.js';
import type { Shape } from './layer.js';

const fields = t.intersection([
  t.type({ filters: t.number, kernel_size: intOrTuple }),
  cellWeightFields,
  t.partial({
    strides: intOrTuple,
    padding: t.string,
    data_format: nullable(t.string),
    dilation_rate: intOrTuple,
    recurrent_activation: nullable(t.string),
    unit_forget_bias: t.boolean,
  }),
]);
export type ConvLSTM2DArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `ConvLSTM2D`: an LSTM whose input and recurrent transformations are
 * 2D convolutions. Input (batch, time, rows, cols, channels) (channels_last)
 * or (batch, time, channels, rows, cols). Weights: kernel (kh, kw, in, 4f),
 * recurrent_kernel (kh, kw, f, 4f), bias (4f), gates i, f, c, o. The input
 * convolution uses the layer's strides, padding and dilation; the recurrent
 * one stride 1 and 'same' padding. Keras 2's default recurrent_activation
 * here is 'hard_sigmoid'.
 */
export function ConvLSTM2D(args: ConvLSTM2DArgs): RecurrentLayer {
  const c = decodeRecurrentConfig('ConvLSTM2D', fields, args);
  const where = `ConvLSTM2D '${c.name}'`;
  const filters = c.filters;
  if (!Number.isInteger(filters) || filters < 1) throw new ConfigDecodeError('filters', 'a positive integer', filters, where);
  const kernelSize = checkPositive(tupleOf(c.kernel_size, 2, 'kernel_size', where), 'kernel_size', where);
  const strides = checkPositive(tupleOf(c.strides ?? 1, 2, 'strides', where), 'strides', where);
  const dilation = checkPositive(tupleOf(c.dilation_rate ?? 1, 2, 'dilation_rate', where), 'dilation_rate', where);
  const padding = paddingOf(c.padding, where);
  const format = dataFormatOf(c.data_format, where);
  const cf = format === 'channels_first';
  const w = cellWeights(c, where);
  const recName = c.recurrent_activation === undefined ? 'hard_sigmoid' : (c.recurrent_activation ?? 'linear');
  const recAct = getActivation(recName);
  const unitForgetBias = c.unit_forget_bias ?? true;
  const f = filters;
  // (batch, time, ...) -> rows, cols, channels
  const spatial = (s: Shape) => (cf ? { rows: s[3], cols: s[4], ch: s[2] } : { rows: s[2], cols: s[3], ch: s[4] });
  const nhwc = (x: ops.Tensor) => (cf ? ops.transpose(x, [0, 2, 3, 1]) : x) as ops.Tensor4D;
  const back = (x: ops.Tensor) => (cf ? ops.transpose(x, [0, 3, 1, 2]) : x);
  const gateKernel = (k: ops.Tensor, g: number) => ops.slice(k, [0, 0, 0, g * f], [k.shape[0] as number, k.shape[1] as number, k.shape[2] as number, f]);
  const conv = (x: ops.Tensor4D, k: ops.Tensor, s: number[], pad: 'valid' | 'same', d: number[]) =>
    ops.conv2d(x, k as ops.Tensor4D, [s[0], s[1]], pad, 'NHWC', [d[0], d[1]]);
  return defineRecurrent({
    className: 'ConvLSTM2D',
    config: {
      ...c,
      filters,
      kernel_size: kernelSize,
      strides,
      padding,
      data_format: format,
      dilation_rate: dilation,
      ...w.config,
      recurrent_activation: recName,
      unit_forget_bias: unitForgetBias,
    },
    featureRank: 3,
    cell: {
      stateShapes(s) {
        const { rows, cols } = spatial(s);
        const r = convOutputLength(rows, kernelSize[0], padding, strides[0], dilation[0]);
        const cc = convOutputLength(cols, kernelSize[1], padding, strides[1], dilation[1]);
        const one = cf ? [f, r, cc] : [r, cc, f];
        return [one, one];
      },
      init(key, s) {
        const { ch } = spatial(s);
        if (ch === null) throw new ShapeMismatchError(where, 'an input whose channel dimension is known', s);
        const p: Record<string, ops.Tensor> = {
          kernel: w.kernelInit.init(foldIn(key, 'kernel'), [...kernelSize, ch, 4 * f]),
          recurrent_kernel: w.recurrentInit.init(foldIn(key, 'recurrent_kernel'), [...kernelSize, f, 4 * f]),
        };
        if (w.useBias) {
          p.bias = unitForgetBias
            ? ops.tidy(() => ops.concat([w.biasInit.init(foldIn(key, 'bias_i'), [f]), ops.ones([f]), w.biasInit.init(foldIn(key, 'bias_co'), [2 * f])]))
            : w.biasInit.init(foldIn(key, 'bias'), [4 * f]);
        }
        return p;
      },
      dropout: w.dropout,
      recurrentDropout: w.recurrentDropout,
      inputMasks: 4,
      recurrentMasks: 4,
      project(p, x, dp) {
        const [b, steps] = x.shape;
        const frames = (xi: ops.Tensor) => nhwc(ops.reshape(xi, [b * steps, ...xi.shape.slice(2)]));
        let y: ops.Tensor;
        if (!dp) y = conv(frames(x), p.kernel, strides, padding, dilation);
        else
          y = ops.concat(
            range(0, 4).map((g) => conv(frames(ops.mul(x, ops.expandDims(dp[g], 1))), gateKernel(p.kernel, g), strides, padding, dilation)),
            -1,
          );
        if (p.bias) y = ops.add(y, p.bias);
        // (batch, time, rows', cols', 4f), gates on the last axis
        return ops.reshape(y, [b, steps, ...y.shape.slice(1)]);
      },
      step(p, xt, [h, cPrev], rec) {
        const h4 = nhwc(h);
        const c4 = nhwc(cPrev);
        const r = rec
          ? ops.concat(range(0, 4).map((g) => conv(nhwc(ops.mul(h, rec[g])), gateKernel(p.recurrent_kernel, g), [1, 1], 'same', [1, 1])), -1)
          : conv(h4, p.recurrent_kernel, [1, 1], 'same', [1, 1]);
        const [zi, zf, zc, zo] = ops.split(ops.add(xt, r), 4, -1);
        const i = recAct(zi);
        const fg = recAct(zf);
        const cNext = ops.add(ops.mul(fg, c4), ops.mul(i, w.activation(zc)));
        const o = recAct(zo);
        return [back(ops.mul(o, w.activation(cNext))), back(cNext)];
      },
      ...cellExtras(w),
      activityRegularizer: w.activityReg,
    },
  });
}
