import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, SerializedLayer, Shape, Weights } from './layer.js';

const fields = t.type({ layer: t.unknown });
export interface TimeDistributedArgs {
  /** The inner layer, or its Keras serialisation `{ class_name, config }`. */
  layer: Layer | SerializedLayer;
  [key: string]: unknown;
}

export function isLayer(x: unknown): x is Layer {
  return typeof x === 'object' && x !== null && typeof (x as Layer).apply === 'function' && typeof (x as Layer).init === 'function';
}

/**
 * Builds a layer from `{ class_name, config }`: the layer registry's lookup,
 * which the registry passes to the wrappers (they sit below it).
 */
export type LayerLookup = (serialized: SerializedLayer) => Layer;

/** A wrapped layer from a Layer value or a Keras `{ class_name, config }`. */
export function innerLayer(spec: unknown, where: string, lookup: LayerLookup): Layer {
  if (isLayer(spec)) return spec;
  if (typeof spec !== 'object' || spec === null || typeof (spec as SerializedLayer).class_name !== 'string')
    throw new ConfigDecodeError('layer', 'a layer or { class_name, config }', spec, where);
  return lookup(spec as SerializedLayer);
}

/**
 * Keras `TimeDistributed`: applies the inner layer to every time step, i.e.
 * to (batch * time, ...) and back to (batch, time, ...). The weights are the
 * inner layer's (Keras names them `time_distributed/kernel:0`, ...). The
 * input mask passes through unless the inner layer makes its own.
 */
export function timeDistributed(args: TimeDistributedArgs, lookup: LayerLookup): Layer {
  const c = decodeLayerConfig('TimeDistributed', fields, args);
  const where = `TimeDistributed '${c.name}'`;
  const inner = innerLayer(c.layer, where, lookup);
  const innerShape = (s: Shape): Shape => {
    if (s.length < 3) throw new ShapeMismatchError(where, 'an input of rank >= 3 (batch, time, ...)', s);
    return [s[0] !== null && s[1] !== null ? s[0] * s[1] : null, ...s.slice(2)];
  };
  const outShape = (s: Shape): Shape => {
    const o = inner.computeOutputShape(innerShape(s)) as Shape;
    return [s[0], s[1], ...o.slice(1)];
  };
  const config = { ...c, layer: { class_name: inner.className, config: inner.getConfig() } };
  return defineLayer('TimeDistributed', config, {
    init(key, inputShape) {
      const s = inputShape as Shape;
      const r = inner.init(key, innerShape(s));
      return { params: r.params, state: r.state, outputShape: outShape(s) };
    },
    apply(params, state, inputs, options) {
      const x = inputs as ops.Tensor;
      if (x.rank < 3) throw new ShapeMismatchError(where, 'an input of rank >= 3 (batch, time, ...)', x.shape);
      const [b, steps] = x.shape;
      const flat = ops.reshape(x, [b * steps, ...x.shape.slice(2)]);
      const r = inner.apply(params as Weights, state as Weights, flat, { ...options, mask: null });
      flat.dispose();
      const y = r.outputs as ops.Tensor;
      const outputs = ops.reshape(y, [b, steps, ...y.shape.slice(1)]);
      y.dispose();
      return { outputs, state: r.state, ...(r.losses ? { losses: r.losses } : {}) };
    },
    computeOutputShape: (s) => outShape(s as Shape),
    computeMask(inputs, mask) {
      const m = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
      if (!inner.computeMask) return m;
      const x = inputs as ops.Tensor;
      const [b, steps] = x.shape;
      const flat = ops.reshape(x, [b * steps, ...x.shape.slice(2)]);
      const innerMask = inner.computeMask(flat, null);
      flat.dispose();
      if (!innerMask || Array.isArray(innerMask)) return m;
      const out = ops.tidy(() => {
        const r = ops.reshape(innerMask, [b, steps, ...innerMask.shape.slice(1)]);
        return r.rank > 2 ? ops.any(r, Array.from({ length: r.rank - 2 }, (_, i) => i + 2)) : r;
      });
      innerMask.dispose();
      return out;
    },
    regularization: inner.regularization ? (p) => inner.regularization!(p) : undefined,
    constrain: inner.constrain ? (p) => inner.constrain!(p) : undefined,
  });
}
