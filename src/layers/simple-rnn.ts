import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError } from '../core/errors.js';
import { foldIn } from '../core/rng.js';
import { lastDim } from './define-layer.js';
import { cellExtras, cellWeightFields, cellWeights, decodeRecurrentConfig, defineRecurrent, maskedInputs, projectDense, type RecurrentLayer } from './rnn-core.js';

const fields = t.intersection([t.type({ units: t.number }), cellWeightFields]);
export type SimpleRNNArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `SimpleRNN`: `h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)`.
 * Weights in Keras's order: kernel (in, units), recurrent_kernel (units, units), bias (units).
 */
export function SimpleRNN(args: SimpleRNNArgs): RecurrentLayer {
  const c = decodeRecurrentConfig('SimpleRNN', fields, args);
  const where = `SimpleRNN '${c.name}'`;
  const units = c.units;
  if (!Number.isInteger(units) || units < 1) throw new ConfigDecodeError('units', 'a positive integer', units, where);
  const w = cellWeights(c, where);
  return defineRecurrent({
    className: 'SimpleRNN',
    config: { ...c, units, ...w.config },
    featureRank: 1,
    cell: {
      stateShapes: () => [[units]],
      init(key, s) {
        const inDim = lastDim(s, where);
        const p: Record<string, ops.Tensor> = {
          kernel: w.kernelInit.init(foldIn(key, 'kernel'), [inDim, units]),
          recurrent_kernel: w.recurrentInit.init(foldIn(key, 'recurrent_kernel'), [units, units]),
        };
        if (w.useBias) p.bias = w.biasInit.init(foldIn(key, 'bias'), [units]);
        return p;
      },
      dropout: w.dropout,
      recurrentDropout: w.recurrentDropout,
      inputMasks: 1,
      recurrentMasks: 1,
      project: (p, x, dp) => projectDense(maskedInputs(x, dp, 1)[0], p.kernel, p.bias),
      step(p, xt, [h], rec) {
        const hm = rec ? ops.mul(h, rec[0]) : h;
        return [w.activation(ops.add(xt, ops.matMul(hm, p.recurrent_kernel)))];
      },
      ...cellExtras(w),
      activityRegularizer: w.activityReg,
    },
  });
}
