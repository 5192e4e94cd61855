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
  t.partial({ recurrent_activation: nullable(t.string), implementation: t.number, reset_after: t.boolean }),
]);
export type GRUArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `GRU` with gates z, r, h (tf.keras 2 defaults: reset_after true,
 * recurrent_activation 'sigmoid', implementation 2). Weights: kernel (in, 3u),
 * recurrent_kernel (u, 3u), bias (3u), or with reset_after a bias (2, 3u):
 * row 0 the input bias, row 1 the recurrent bias; then the reset gate
 * multiplies `h @ recurrent_kernel_h + recurrent_bias_h` instead of `h`.
 */
export function GRU(args: GRUArgs): RecurrentLayer {
  const c = decodeRecurrentConfig('GRU', fields, args);
  const where = `GRU '${c.name}'`;
  const units = c.units;
  if (!Number.isInteger(units) || units < 1) throw new ConfigDecodeError('units', 'a positive integer', units, where);
  const w = cellWeights(c, where);
  const recName = c.recurrent_activation === undefined ? 'sigmoid' : (c.recurrent_activation ?? 'linear');
  const recAct = getActivation(recName);
  const resetAfter = c.reset_after ?? true;
  const implementation = c.implementation ?? 2;
  if (implementation !== 1 && implementation !== 2) throw new ConfigDecodeError('implementation', '1 or 2', implementation, where);
  const masks = implementation === 1 ? 3 : 1;
  const u = units;
  const inputBias = (p: Record<string, ops.Tensor>): ops.Tensor | undefined =>
    p.bias ? (resetAfter ? ops.reshape(ops.slice(p.bias, [0, 0], [1, 3 * u]), [3 * u]) : p.bias) : undefined;
  return defineRecurrent({
    className: 'GRU',
    config: { ...c, units, ...w.config, recurrent_activation: recName, implementation, reset_after: resetAfter },
    featureRank: 1,
    cell: {
      stateShapes: () => [[units]],
      init(key, s) {
        const inDim = lastDim(s, where);
        const p: Record<string, ops.Tensor> = {
          kernel: w.kernelInit.init(foldIn(key, 'kernel'), [inDim, 3 * u]),
          recurrent_kernel: w.recurrentInit.init(foldIn(key, 'recurrent_kernel'), [u, 3 * u]),
        };
        if (w.useBias) p.bias = w.biasInit.init(foldIn(key, 'bias'), resetAfter ? [2, 3 * u] : [3 * u]);
        return p;
      },
      dropout: w.dropout,
      recurrentDropout: w.recurrentDropout,
      inputMasks: masks,
      recurrentMasks: masks,
      project(p, x, dp) {
        const b = inputBias(p);
        if (!dp || masks === 1) return projectDense(maskedInputs(x, dp, 1)[0], p.kernel, b);
        const xs = maskedInputs(x, dp, 3);
        return ops.concat(
          xs.map((xi, g) => projectDense(xi, columns(p.kernel, g * u, (g + 1) * u), b ? ops.slice(b, g * u, u) : undefined)),
          -1,
        );
      },
      step(p, xt, [h], rec) {
        const hz = rec ? ops.mul(h, rec[0]) : h;
        const hr = rec ? ops.mul(h, rec[Math.min(1, rec.length - 1)]) : h;
        const hh = rec ? ops.mul(h, rec[Math.min(2, rec.length - 1)]) : h;
        const [xz, xr, xh] = ops.split(xt, 3, -1);
        const rk = p.recurrent_kernel;
        let recZ: ops.Tensor;
        let recR: ops.Tensor;
        let recH: ops.Tensor;
        if (resetAfter) {
          const rb = p.bias ? ops.reshape(ops.slice(p.bias, [1, 0], [1, 3 * u]), [3 * u]) : undefined;
          const inner = (hx: ops.Tensor, g: number) => {
            const y = ops.matMul(hx, columns(rk, g * u, (g + 1) * u));
            return rb ? ops.add(y, ops.slice(rb, g * u, u)) : y;
          };
          if (hz === hr && hr === hh) {
            let m = ops.matMul(hz, rk);
            if (rb) m = ops.add(m, rb);
            [recZ, recR, recH] = ops.split(m, 3, -1);
          } else [recZ, recR, recH] = [inner(hz, 0), inner(hr, 1), inner(hh, 2)];
          const z = recAct(ops.add(xz, recZ));
          const r = recAct(ops.add(xr, recR));
          const cand = w.activation(ops.add(xh, ops.mul(r, recH)));
          return [ops.add(ops.mul(z, h), ops.mul(ops.sub(1, z), cand))];
        }
        if (hz === hr) [recZ, recR] = ops.split(ops.matMul(hz, columns(rk, 0, 2 * u)), 2, -1);
        else [recZ, recR] = [ops.matMul(hz, columns(rk, 0, u)), ops.matMul(hr, columns(rk, u, 2 * u))];
        const z = recAct(ops.add(xz, recZ));
        const r = recAct(ops.add(xr, recR));
        recH = ops.matMul(ops.mul(r, hh), columns(rk, 2 * u, 3 * u));
        const cand = w.activation(ops.add(xh, recH));
        return [ops.add(ops.mul(z, h), ops.mul(ops.sub(1, z), cand))];
      },
      ...cellExtras(w),
      activityRegularizer: w.activityReg,
    },
  });
}
