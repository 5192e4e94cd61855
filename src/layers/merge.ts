import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { isShapeList } from './symbolic.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { ApplyOptions, Layer, Shape, Shapes, Tensors } from './layer.js';

const fields = t.partial({});
export type MergeArgs = Record<string, unknown>;

/** The list of input shapes of a merge layer (a single shape is an error, as in Keras). */
export function shapeList(s: Shapes, where: string, min: number, max = Infinity): Shape[] {
  if (!isShapeList(s)) throw new ShapeMismatchError(where, 'a list of input shapes (the layer is called on a list of tensors)', s);
  if (s.length < min || s.length > max)
    throw new ShapeMismatchError(where, max === min ? `${min} inputs` : `${min} or more inputs`, `${s.length} inputs`);
  return s;
}

/** The list of input tensors of a merge layer. */
export function tensorList(x: Tensors, where: string, min: number, max = Infinity): ops.Tensor[] {
  if (!Array.isArray(x))
    throw new InvalidArgumentError(`${where}: inputs`, 'a list of tensors (a merge layer is called on a list)', `one tensor of shape [${x.shape}]`);
  if (x.length < min || x.length > max)
    throw new InvalidArgumentError(`${where}: inputs`, max === min ? `${min} tensors` : `${min} or more tensors`, `${x.length} tensors`);
  return x;
}

/** Keras `_Merge._compute_elemwise_op_output_shape`: right-aligned broadcasting, null stays unknown. */
export function broadcastShapes(a: Shape, b: Shape, where: string): Shape {
  if (a.length < b.length) return broadcastShapes(b, a, where);
  if (b.length === 0) return a;
  const out = a.slice(0, a.length - b.length);
  const tail = a.slice(a.length - b.length);
  tail.forEach((i, k) => {
    const j = b[k];
    if (i === null || j === null) out.push(null);
    else if (i === 1) out.push(j);
    else if (j === 1) out.push(i);
    else if (i !== j) throw new ShapeMismatchError(`${where}: inputs have incompatible shapes`, a, b);
    else out.push(i);
  });
  return out;
}

/** Keras `_Merge.compute_output_shape` (with the batch-size check of `build`). */
export function elementwiseOutputShape(shapes: Shape[], where: string): Shape {
  const batches = new Set(shapes.map((s) => s[0]).filter((d) => d !== null && d !== undefined));
  if (batches.size > 1) throw new ShapeMismatchError(`${where}: cannot merge tensors with different batch sizes`, shapes[0], shapes.find((s) => s[0] !== shapes[0][0]) ?? shapes[0]);
  let out = shapes[0].slice(1);
  for (const s of shapes.slice(1)) out = broadcastShapes(out, s.slice(1), where);
  return [batches.size === 1 ? [...batches][0] : null, ...out];
}

/** Keras `_Merge.compute_mask`: the logical AND of the inputs' masks (null when none has one). */
export function andMasks(mask: ApplyOptions['mask']): ops.Tensor | null {
  if (!mask) return null;
  const list = (Array.isArray(mask) ? mask : [mask]).filter((m): m is ops.Tensor => m !== null && m !== undefined);
  if (list.length === 0) return null;
  if (list.length === 1) return list[0];
  return ops.tidy(() => list.slice(1).reduce((acc, m) => ops.logicalAnd(acc, m), list[0]));
}

/**
 * A Keras elementwise merge layer: inputs of different ranks are expanded at
 * axis 1 until their ranks agree, then combined with numpy broadcasting, as
 * `_Merge.call` does.
 */
function elementwise(className: string, min: number, max: number, merge: (xs: ops.Tensor[]) => ops.Tensor) {
  return (args: MergeArgs = {}): Layer => {
    const config = decodeLayerConfig(className, fields, args);
    const where = `${className} '${config.name}'`;
    const outShape = (s: Shapes) => elementwiseOutputShape(shapeList(s, where, min, max), where);
    return defineLayer(className, config, {
      init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape) }),
      apply(_params, state, inputs) {
        const xs = tensorList(inputs, where, min, max);
        elementwiseOutputShape(xs.map((x) => x.shape), where);
        const rank = Math.max(...xs.map((x) => x.rank));
        const outputs = ops.tidy(() => {
          const expanded = xs.map((x) => {
            let y = x;
            while (y.rank < rank) y = ops.expandDims(y, 1);
            return y;
          });
          return merge(expanded);
        });
        return { outputs, state };
      },
      computeOutputShape: outShape,
      computeMask: (_inputs, mask) => andMasks(mask),
    });
  };
}

const fold = (f: (a: ops.Tensor, b: ops.Tensor) => ops.Tensor) => (xs: ops.Tensor[]) =>
  xs.length === 1 ? ops.clone(xs[0]) : xs.slice(1).reduce((acc, x) => f(acc, x), xs[0]);

/** Keras `Add`: the elementwise sum of a list of inputs. */
export const Add = elementwise('Add', 1, Infinity, fold(ops.add));
/** Keras `Subtract`: `inputs[0] - inputs[1]`, exactly two inputs. */
export const Subtract = elementwise('Subtract', 2, 2, fold(ops.sub));
/** Keras `Multiply`: the elementwise product of a list of inputs. */
export const Multiply = elementwise('Multiply', 1, Infinity, fold(ops.mul));
/** Keras `Average`: the elementwise mean of a list of inputs. */
export const Average = elementwise('Average', 1, Infinity, (xs) => ops.div(fold(ops.add)(xs), xs.length));
/** Keras `Maximum`: the elementwise maximum of a list of inputs. */
export const Maximum = elementwise('Maximum', 1, Infinity, fold(ops.maximum));
/** Keras `Minimum`: the elementwise minimum of a list of inputs. */
export const Minimum = elementwise('Minimum', 1, Infinity, fold(ops.minimum));
