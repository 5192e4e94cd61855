import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError, ShapeMismatchError } from '../core/errors.js';
import { foldIn } from '../core/rng.js';
import type { TensorTree } from '../core/tree.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { Layer, SerializedLayer, Shape, Shapes, Tensors, Weights } from './layer.js';
import { isRecurrentLayer, type RecurrentLayer } from './rnn-core.js';
import { innerLayer, type LayerLookup } from './time-distributed.js';

const fields = t.intersection([t.type({ layer: t.unknown }), t.partial({ merge_mode: nullable(t.string), backward_layer: t.unknown })]);
export interface BidirectionalArgs {
  /** The recurrent layer (SimpleRNN, LSTM, GRU, ConvLSTM2D) or its `{ class_name, config }`. */
  layer: Layer | SerializedLayer;
  /** 'concat' (default), 'sum', 'mul', 'ave', or null for the two outputs as a list. */
  merge_mode?: 'concat' | 'sum' | 'mul' | 'ave' | null;
  backward_layer?: Layer | SerializedLayer;
  [key: string]: unknown;
}
const MODES = ['concat', 'sum', 'mul', 'ave'];

/**
 * Keras `Bidirectional`: a forward copy and a backward copy (go_backwards
 * flipped) of a recurrent layer, named `forward_<name>` / `backward_<name>`,
 * their weights in that order. With return_sequences the backward outputs
 * are reversed in time before merging, and masked steps output zeros
 * (tf.keras 2 forces `zero_output_for_mask` there). With return_state the
 * outputs are [merged, ...forward states, ...backward states]; initial_state
 * inputs are split the same way.
 */
export function bidirectional(args: BidirectionalArgs, lookup: LayerLookup): RecurrentLayer {
  const c = decodeLayerConfig('Bidirectional', fields, args);
  const where = `Bidirectional '${c.name}'`;
  const mergeMode = c.merge_mode === undefined ? 'concat' : c.merge_mode;
  if (mergeMode !== null && !MODES.includes(mergeMode))
    throw new ConfigDecodeError('merge_mode', "'concat' | 'sum' | 'mul' | 'ave' | null", mergeMode, where);
  const inner = innerLayer(c.layer, where, lookup);
  if (!isRecurrentLayer(inner)) throw new ConfigDecodeError('layer', 'a recurrent layer (SimpleRNN, LSTM, GRU, ConvLSTM2D)', inner.className, where);
  const ic = inner.getConfig() as Record<string, unknown> & { return_sequences?: boolean; return_state?: boolean; go_backwards?: boolean; stateful?: boolean; time_major?: boolean };
  const returnSequences = ic.return_sequences ?? false;
  const returnState = ic.return_state ?? false;
  const copy = (l: Layer, name: string, extra: Record<string, unknown>): RecurrentLayer => {
    const made = lookup({ class_name: l.className, config: { ...l.getConfig(), name, ...extra } });
    if (!isRecurrentLayer(made)) throw new ConfigDecodeError('layer', 'a recurrent layer', l.className, where);
    return made;
  };
  const zero = returnSequences ? { zero_output_for_mask: true } : {};
  const forward = copy(inner, `forward_${inner.name}`, zero);
  const backSpec = c.backward_layer === undefined || c.backward_layer === null ? null : innerLayer(c.backward_layer, where, lookup);
  const backward = backSpec
    ? copy(backSpec, `backward_${backSpec.name}`, zero)
    : copy(inner, `backward_${inner.name}`, { ...zero, go_backwards: !(ic.go_backwards ?? false) });
  const bc = backward.getConfig() as typeof ic;
  if ((bc.return_sequences ?? false) !== returnSequences || (bc.return_state ?? false) !== returnState || (bc.stateful ?? false) !== (ic.stateful ?? false))
    throw new ConfigDecodeError('backward_layer', 'the same return_sequences, return_state and stateful as layer', bc, where);
  if ((bc.go_backwards ?? false) === (ic.go_backwards ?? false))
    throw new ConfigDecodeError('backward_layer', 'go_backwards opposite to the forward layer', bc.go_backwards, where);
  const n = forward.stateCount;
  const timeAxis = ic.time_major ? 0 : 1;

  const outShape = (s: Shapes): Shapes => {
    const list = Array.isArray(s[0]) ? (s as Shape[]) : [s as Shape];
    const f = forward.computeOutputShape(list.length > 1 ? [list[0], ...list.slice(1, 1 + n)] : list[0]);
    const fl = returnState ? (f as Shape[]) : [f as Shape];
    const y = fl[0];
    const states = fl.slice(1);
    const merged: Shape[] =
      mergeMode === null
        ? [y, y]
        : mergeMode === 'concat'
          ? [[...y.slice(0, -1), y[y.length - 1] === null ? null : (y[y.length - 1] as number) * 2]]
          : [y];
    const all = [...merged, ...(returnState ? [...states, ...states] : [])];
    return all.length === 1 ? all[0] : all;
  };
  const config = {
    ...c,
    layer: { class_name: inner.className, config: inner.getConfig() },
    merge_mode: mergeMode,
    ...(backSpec ? { backward_layer: { class_name: backSpec.className, config: backSpec.getConfig() } } : {}),
    ...(c.batch_input_shape === undefined && ic.batch_input_shape ? { batch_input_shape: ic.batch_input_shape as Shape } : {}),
  };
  const sub = (tree: TensorTree, l: Layer): Weights => (tree[l.name] ?? {}) as Weights;
  const layer = defineLayer<typeof config, TensorTree, TensorTree>('Bidirectional', config, {
    init(key, inputShape) {
      const list = Array.isArray(inputShape[0]) ? (inputShape as Shape[]) : [inputShape as Shape];
      const f = forward.init(foldIn(key, 'forward'), list[0]);
      const b = backward.init(foldIn(key, 'backward'), list[0]);
      const state: TensorTree = {};
      if (Object.keys(f.state).length) state[forward.name] = f.state;
      if (Object.keys(b.state).length) state[backward.name] = b.state;
      return { params: { [forward.name]: f.params, [backward.name]: b.params }, state, outputShape: outShape(inputShape) };
    },
    apply(params, state, inputs, options) {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const initial = list.slice(1);
      if (initial.length !== 0 && initial.length !== 2 * n)
        throw new ShapeMismatchError(`${where}: initial_state`, `${2 * n} state tensors (forward, then backward)`, `${initial.length}`);
      const mask = Array.isArray(options.mask) ? (options.mask[0] ?? null) : (options.mask ?? null);
      const run = (l: RecurrentLayer, states: ops.Tensor[], tag: string) =>
        l.apply(sub(params, l), sub(state, l), states.length ? [list[0], ...states] : list[0], {
          ...options,
          mask,
          key: options.key === undefined ? undefined : foldIn(options.key, tag),
        });
      const f = run(forward, initial.slice(0, n), 'forward');
      const b = run(backward, initial.slice(n), 'backward');
      const fo = returnState ? (f.outputs as ops.Tensor[]) : [f.outputs as ops.Tensor];
      const bo = returnState ? (b.outputs as ops.Tensor[]) : [b.outputs as ops.Tensor];
      const merged = ops.tidy(() => {
        const y = fo[0];
        const yRev = returnSequences ? ops.reverse(bo[0], timeAxis) : bo[0];
        switch (mergeMode) {
          case null:
            return [y === fo[0] ? ops.clone(y) : y, yRev === bo[0] ? ops.clone(yRev) : yRev];
          case 'concat':
            return [ops.concat([y, yRev], -1)];
          case 'sum':
            return [ops.add(y, yRev)];
          case 'mul':
            return [ops.mul(y, yRev)];
          default:
            return [ops.mul(ops.add(y, yRev), 0.5)];
        }
      });
      ops.dispose([fo[0], bo[0]]);
      const all = [...merged, ...fo.slice(1), ...bo.slice(1)];
      const newState: TensorTree = {};
      if (Object.keys(f.state).length) newState[forward.name] = f.state;
      if (Object.keys(b.state).length) newState[backward.name] = b.state;
      const outputs: Tensors = all.length === 1 ? all[0] : all;
      return { outputs, state: Object.keys(newState).length ? newState : state };
    },
    computeOutputShape: outShape,
    computeMask(_inputs, mask) {
      const m = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
      const out = returnSequences ? m : null;
      const outs = mergeMode === null ? [out, out] : [out];
      const all = [...outs, ...(returnState ? new Array<null>(2 * n).fill(null) : [])];
      return all.length === 1 ? all[0] : all;
    },
    regularization(p) {
      const fr = forward.regularization?.(sub(p, forward)) ?? null;
      const br = backward.regularization?.(sub(p, backward)) ?? null;
      if (fr && br) {
        const total = ops.add(fr, br) as ops.Scalar;
        ops.dispose([fr, br]);
        return total;
      }
      return fr ?? br;
    },
    constrain:
      forward.constrain || backward.constrain
        ? (p) => ({
            [forward.name]: forward.constrain ? forward.constrain(sub(p, forward)) : sub(p, forward),
            [backward.name]: backward.constrain ? backward.constrain(sub(p, backward)) : sub(p, backward),
          })
        : undefined,
  });
  return Object.assign(layer as unknown as Layer, {
    stateCount: 2 * n,
    recurrentState: true as const,
    resetStates(old: TensorTree, batchInputShape?: Shape): TensorTree {
      if (!(ic.stateful ?? false)) return {};
      return {
        [forward.name]: forward.resetStates((old[forward.name] ?? {}) as TensorTree, batchInputShape),
        [backward.name]: backward.resetStates((old[backward.name] ?? {}) as TensorTree, batchInputShape),
      };
    },
  });
}
