import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError } from '../core/errors.js';
import { foldIn } from '../core/rng.js';
import { getActivation } from '../activations/index.js';
import { lastDim } from './define-layer.js';
import {
  cellExtras, cellWeightFields, cellWeights, columns, decodeRecurrentConfig, defineRecurrent, maskedInputs, projectDense, type RecurrentLayer,
} from './rnn-core.js';

const fields = t.intersection([
  t.type({ units: t.number }),
  cellWeightFields,
  t.partial({ recurrent_activation: nullable(t.string), unit_forget_bias: t.boolean, implementation: t.number }),
]);
export type LSTMArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `LSTM` (tf.keras 2 defaults: recurrent_activation 'sigmoid',
 * unit_forget_bias, implementation 2; a Keras 2.2 config's 'hard_sigmoid'
 * is honoured). Weights: kernel (in, 4u), recurrent_kernel (u, 4u), bias (4u),
 * gates in the order i, f, c, o. Implementation 1 draws one dropout mask per
 * gate, implementation 2 one for all, as Keras does.
 */
export function LSTM(args: LSTMArgs): RecurrentLayer {
  const c = decodeRecurrentConfig('LSTM', fields, args);
  const where = `LSTM '${c.name}'`;
  const units = c.units;
  if (!Number.isInteger(units) || units < 1) throw new ConfigDecodeError('units', 'a positive integer', units, where);
  const w = cellWeights(c, where);
  const recName = c.recurrent_activation === undefined ? 'sigmoid' : (c.recurrent_activation ?? 'linear');
  const recAct = getActivation(recName);
  const unitForgetBias = c.unit_forget_bias ?? true;
  const implementation = c.implementation ?? 2;
  if (implementation !== 1 && implementation !== 2) throw new ConfigDecodeError('implementation', '1 or 2', implementation, where);
  const masks = implementation === 1 ? 4 : 1;
  return defineRecurrent({
    className: 'LSTM',
    config: { ...c, units, ...w.config, recurrent_activation: recName, unit_forget_bias: unitForgetBias, implementation },
    featureRank: 1,
    cell: {
      stateShapes: () => [[units], [units]],
      init(key, s) {
        const inDim = lastDim(s, where);
        const p: Record<string, ops.Tensor> = {
          kernel: w.kernelInit.init(foldIn(key, 'kernel'), [inDim, 4 * units]),
          recurrent_kernel: w.recurrentInit.init(foldIn(key, 'recurrent_kernel'), [units, 4 * units]),
        };
        if (w.useBias) {
          p.bias = unitForgetBias
            ? ops.tidy(() =>
                ops.concat([w.biasInit.init(foldIn(key, 'bias_i'), [units]), ops.ones([units]), w.biasInit.init(foldIn(key, 'bias_co'), [2 * units])]),
              )
            : w.biasInit.init(foldIn(key, 'bias'), [4 * units]);
        }
        return p;
      },
      dropout: w.dropout,
      recurrentDropout: w.recurrentDropout,
      inputMasks: masks,
      recurrentMasks: masks,
      project(p, x, dp) {
        if (!dp || masks === 1) return projectDense(maskedInputs(x, dp, 1)[0], p.kernel, p.bias);
        const xs = maskedInputs(x, dp, 4);
        return ops.concat(
          xs.map((xi, g) => projectDense(xi, columns(p.kernel, g * units, (g + 1) * units), p.bias ? ops.slice(p.bias, g * units, units) : undefined)),
          -1,
        );
      },
      step(p, xt, [h, cPrev], rec) {
        const r =
          rec && rec.length === 4
            ? ops.concat(rec.map((m, g) => ops.matMul(ops.mul(h, m), columns(p.recurrent_kernel, g * units, (g + 1) * units))), -1)
            : ops.matMul(rec ? ops.mul(h, rec[0]) : h, p.recurrent_kernel);
        const [zi, zf, zc, zo] = ops.split(ops.add(xt, r), 4, -1);
        const i = recAct(zi);
        const f = recAct(zf);
        const cNext = ops.add(ops.mul(f, cPrev), ops.mul(i, w.activation(zc)));
        const o = recAct(zo);
        return [ops.mul(o, w.activation(cNext)), cNext];
      },
      ...cellExtras(w),
      activityRegularizer: w.activityReg,
    },
  });
}
