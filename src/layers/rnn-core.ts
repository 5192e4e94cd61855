/**
 * The recurrent machinery shared by SimpleRNN, LSTM, GRU and ConvLSTM2D:
 * Keras's `RNN` layer (`K.rnn`) as a pure loop over time steps. A cell says
 * how to project the whole input sequence (one matmul / conv for every step)
 * and how one step updates its states; this file does the rest: masks,
 * `go_backwards`, `initial_state` inputs, `stateful` state, dropout masks
 * fixed across time steps, `return_sequences` / `return_state`.
 *
 * A stateful layer's recurrent states are layer STATE (passed in and
 * returned, keyed `states_0`, `states_1`, ...); `resetStates` returns them
 * zeroed. Nothing is hidden in the layer value.
 */
import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { ConfigDecodeError, InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { foldIn, seedOf, type Key } from '../core/rng.js';
import { sameShape, type TensorTree } from '../core/tree.js';
import { getActivation, type ActivationFn } from '../activations/index.js';
import { getInitializer, serializeInitializer, type Initializer } from '../initializers/index.js';
import { getRegularizer, serializeRegularizer, type Regularizer } from '../regularizers/index.js';
import { getConstraint, serializeConstraint, type Constraint } from '../constraints/index.js';
import { spec } from './common.js';
import { decodeLayerConfig, defineLayer, penalty } from './define-layer.js';
import type { ApplyOptions, BaseLayerConfig, Layer, Shape, Shapes, Tensors, Weights } from './layer.js';

/** Keras's `RNN` base-layer keys. */
export const rnnFields = t.partial({
  return_sequences: t.boolean,
  return_state: t.boolean,
  go_backwards: t.boolean,
  stateful: t.boolean,
  unroll: t.boolean,
  time_major: t.boolean,
  zero_output_for_mask: t.boolean,
});

/** The weight-related keys of SimpleRNN / LSTM / GRU (and ConvLSTM2D) cells. */
export const cellWeightFields = t.partial({
  activation: nullable(t.string),
  use_bias: t.boolean,
  kernel_initializer: spec,
  recurrent_initializer: spec,
  bias_initializer: spec,
  kernel_regularizer: nullable(spec),
  recurrent_regularizer: nullable(spec),
  bias_regularizer: nullable(spec),
  activity_regularizer: nullable(spec),
  kernel_constraint: nullable(spec),
  recurrent_constraint: nullable(spec),
  bias_constraint: nullable(spec),
  dropout: t.number,
  recurrent_dropout: t.number,
});
type CellWeightConfig = t.TypeOf<typeof cellWeightFields>;

/** Resolved initializers, regularizers, constraints and dropout rates of a cell, with their Keras serialisation. */
export interface CellWeights {
  activation: ActivationFn;
  useBias: boolean;
  kernelInit: Initializer;
  recurrentInit: Initializer;
  biasInit: Initializer;
  kernelReg: Regularizer | null;
  recurrentReg: Regularizer | null;
  biasReg: Regularizer | null;
  activityReg: Regularizer | null;
  kernelConstraint: Constraint | null;
  recurrentConstraint: Constraint | null;
  biasConstraint: Constraint | null;
  dropout: number;
  recurrentDropout: number;
  /** The keys as Keras's get_config writes them. */
  config: Record<string, unknown>;
}

export function cellWeights(c: CellWeightConfig, where: string, defaultActivation = 'tanh'): CellWeights {
  const activationName = c.activation === undefined ? defaultActivation : (c.activation ?? 'linear');
  const w: Omit<CellWeights, 'config'> = {
    activation: getActivation(activationName),
    useBias: c.use_bias ?? true,
    kernelInit: getInitializer(c.kernel_initializer ?? 'glorot_uniform', `${where}.kernel_initializer`),
    recurrentInit: getInitializer(c.recurrent_initializer ?? 'orthogonal', `${where}.recurrent_initializer`),
    biasInit: getInitializer(c.bias_initializer ?? 'zeros', `${where}.bias_initializer`),
    kernelReg: getRegularizer(c.kernel_regularizer, `${where}.kernel_regularizer`),
    recurrentReg: getRegularizer(c.recurrent_regularizer, `${where}.recurrent_regularizer`),
    biasReg: getRegularizer(c.bias_regularizer, `${where}.bias_regularizer`),
    activityReg: getRegularizer(c.activity_regularizer, `${where}.activity_regularizer`),
    kernelConstraint: getConstraint(c.kernel_constraint, `${where}.kernel_constraint`),
    recurrentConstraint: getConstraint(c.recurrent_constraint, `${where}.recurrent_constraint`),
    biasConstraint: getConstraint(c.bias_constraint, `${where}.bias_constraint`),
    dropout: c.dropout ?? 0,
    recurrentDropout: c.recurrent_dropout ?? 0,
  };
  for (const [field, rate] of [['dropout', w.dropout], ['recurrent_dropout', w.recurrentDropout]] as const)
    if (!(rate >= 0 && rate <= 1)) throw new ConfigDecodeError(field, 'a number in [0, 1]', rate, where);
  return {
    ...w,
    config: {
      activation: activationName,
      use_bias: w.useBias,
      kernel_initializer: serializeInitializer(w.kernelInit),
      recurrent_initializer: serializeInitializer(w.recurrentInit),
      bias_initializer: serializeInitializer(w.biasInit),
      kernel_regularizer: serializeRegularizer(w.kernelReg),
      recurrent_regularizer: serializeRegularizer(w.recurrentReg),
      bias_regularizer: serializeRegularizer(w.biasReg),
      activity_regularizer: serializeRegularizer(w.activityReg),
      kernel_constraint: serializeConstraint(w.kernelConstraint),
      recurrent_constraint: serializeConstraint(w.recurrentConstraint),
      bias_constraint: serializeConstraint(w.biasConstraint),
      dropout: w.dropout,
      recurrent_dropout: w.recurrentDropout,
    },
  };
}

/** Weight penalties and constraints of a kernel / recurrent_kernel / bias cell. */
export function cellExtras(w: CellWeights): Pick<Cell, 'regularization' | 'constrain'> {
  const any = w.kernelConstraint || w.recurrentConstraint || w.biasConstraint;
  return {
    regularization: (p) => penalty([[w.kernelReg, p.kernel], [w.recurrentReg, p.recurrent_kernel], [w.biasReg, p.bias]]),
    constrain: any
      ? (p) => ({
          ...p,
          kernel: w.kernelConstraint ? w.kernelConstraint.apply(p.kernel) : p.kernel,
          recurrent_kernel: w.recurrentConstraint ? w.recurrentConstraint.apply(p.recurrent_kernel) : p.recurrent_kernel,
          ...(p.bias ? { bias: w.biasConstraint ? w.biasConstraint.apply(p.bias) : p.bias } : {}),
        })
      : undefined,
  };
}

/** One recurrent cell: its weights, the projection of the whole input sequence, one time step. */
export interface Cell {
  /** Shapes of the states without the batch dimension, from the (batch, time, ...) input shape; the output is state 0. */
  stateShapes(inputShape: Shape): (number | null)[][];
  init(key: Key, inputShape: Shape): Weights;
  /** Dropout rates, and how many independent masks the cell uses (one per gate in implementation 1). */
  dropout: number;
  recurrentDropout: number;
  inputMasks: number;
  recurrentMasks: number;
  /**
   * The input part of every step at once: x is (batch, time, ...features), the
   * dropout masks (batch, ...features) or null. Returns (batch, time, ...).
   */
  project(params: Weights, x: ops.Tensor, dp: ops.Tensor[] | null): ops.Tensor;
  /** One step from the projected input of that step, the states, the recurrent dropout masks. */
  step(params: Weights, xt: ops.Tensor, states: ops.Tensor[], rec: ops.Tensor[] | null): ops.Tensor[];
  regularization?(params: Weights): ops.Scalar | null;
  constrain?(params: Weights): Weights;
  activityRegularizer: Regularizer | null;
  /** Which state is the step's output (default 0; a stack of cells outputs its last cell's first state). */
  outputState?: number;
  /**
   * The dropout masks of one call, when the default ones (inputMasks masks of the
   * input features, recurrentMasks masks of the output state's shape) do not fit:
   * a stack of cells draws each cell's own masks. Passed to project and step as dp and rec.
   */
  dropoutMasks?(key: Key, batch: number, featureShape: number[]): { dp: ops.Tensor[] | null; rec: ops.Tensor[] | null };
}

export type RnnConfig = t.TypeOf<typeof rnnFields>;

/** Extra members of every recurrent layer (SimpleRNN, LSTM, GRU, ConvLSTM2D, Bidirectional). */
export interface RecurrentExtras {
  /** Number of recurrent states (the `return_state` extra outputs, the `initial_state` extra inputs). */
  readonly stateCount: number;
  /** The layer state a stateful layer starts from: its states zeroed (an empty state for other layers). */
  resetStates(state: TensorTree, batchInputShape?: Shape): TensorTree;
  /** True: this layer's state holds recurrent states, not Keras weights (saving skips them). */
  readonly recurrentState: true;
  /** The cell the layer loops over (the generic RNN layer reuses the cells of SimpleRNN, LSTM and GRU). */
  readonly cell?: Cell;
}
export type RecurrentLayer = Layer & RecurrentExtras;

/** Keras 2's legacy `input_dim` / `input_length` keyword arguments of recurrent layers. */
export function legacyRecurrentArgs(args: unknown): Record<string, unknown> {
  const a = { ...((args ?? {}) as Record<string, unknown>) };
  if (a.input_shape === undefined && a.batch_input_shape === undefined && (a.input_dim !== undefined || a.input_length !== undefined)) {
    a.batch_input_shape = [a.batch_size ?? null, a.input_length ?? null, a.input_dim ?? null];
  }
  delete a.input_dim;
  delete a.input_length;
  return a;
}

/** The states' key in a stateful layer's state. */
export const stateKey = (i: number): string => `states_${i}`;

export interface RecurrentOptions<C extends BaseLayerConfig> {
  className: string;
  config: C & RnnConfig;
  cell: Cell;
  /** Rank of the per-step input features (1 for SimpleRNN/LSTM/GRU, 3 for ConvLSTM2D). */
  featureRank: number;
}

/** Keras's `RNN` layer over a cell. */
export function defineRecurrent<C extends BaseLayerConfig>(o: RecurrentOptions<C>): RecurrentLayer {
  const { cell, className, featureRank } = o;
  const c = o.config;
  const where = `${className} '${c.name}'`;
  const returnSequences = c.return_sequences ?? false;
  const returnState = c.return_state ?? false;
  const goBackwards = c.go_backwards ?? false;
  const stateful = c.stateful ?? false;
  const timeMajor = c.time_major ?? false;
  const zeroOutputForMask = c.zero_output_for_mask ?? false;
  const config = {
    ...c,
    return_sequences: returnSequences,
    return_state: returnState,
    go_backwards: goBackwards,
    stateful,
    unroll: c.unroll ?? false,
    time_major: timeMajor,
    ...(zeroOutputForMask ? { zero_output_for_mask: true } : {}),
  };
  const rank = featureRank + 2;
  const mainShape = (s: Shapes): Shape => {
    const first = (Array.isArray(s[0]) ? s[0] : s) as Shape;
    if (first.length !== rank) throw new ShapeMismatchError(where, `a rank-${rank} input (batch, time, ...)`, first);
    return timeMajor ? [first[1], first[0], ...first.slice(2)] : first;
  };
  const statesShapes = (s: Shape): Shape[] => cell.stateShapes(s).map((d) => [s[0], ...d]);
  const outIndex = cell.outputState ?? 0;
  const stateCount = cell.stateShapes([null, null, ...new Array<null>(featureRank).fill(null)]).length;
  const outShape = (shape: Shapes): Shapes => {
    const s = mainShape(shape);
    const states = statesShapes(s);
    let out: Shape = returnSequences ? [s[0], s[1], ...states[outIndex].slice(1)] : states[outIndex];
    if (timeMajor && returnSequences) out = [out[1], out[0], ...out.slice(2)];
    return returnState ? [out, ...states] : out;
  };
  const zeroState = (shape: Shape): Weights => {
    if (!stateful) return {};
    const batch = shape[0];
    if (batch === null) throw new ShapeMismatchError(`${where}: a stateful layer needs a known batch size (batch_input_shape)`, 'a batch size', shape);
    return Object.fromEntries(
      cell.stateShapes(shape).map((d, i) => {
        if (d.some((v) => v === null)) throw new ShapeMismatchError(`${where}: stateful states`, 'static state shapes', d);
        return [stateKey(i), ops.zeros([batch, ...(d as number[])])];
      }),
    );
  };

  const layer = defineLayer(className, config, {
    init(key, inputShape) {
      const s = mainShape(inputShape);
      return { params: cell.init(key, s), state: zeroState(s), outputShape: outShape(inputShape) };
    },
    apply(params, state, inputs, options) {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      let x = list[0];
      if (x.rank !== rank) throw new ShapeMismatchError(where, `a rank-${rank} input (batch, time, ...)`, x.shape);
      const initial = list.slice(1);
      if (initial.length !== 0 && initial.length !== stateCount)
        throw new ShapeMismatchError(`${where}: initial_state`, `${stateCount} state tensor(s)`, `${initial.length}`);
      const rawMask = Array.isArray(options.mask) ? (options.mask[0] ?? null) : (options.mask ?? null);
      const training = options.training;
      const useDropout = training && (cell.dropout > 0 || cell.recurrentDropout > 0);
      if (useDropout && options.key === undefined)
        throw new InvalidArgumentError(`${where}: options.key`, 'a random key in training mode (dropout)', undefined);
      const result = ops.tidy(() => {
        if (timeMajor) x = ops.transpose(x, [1, 0, ...range(2, rank)]);
        const batch = x.shape[0];
        const steps = x.shape[1] as number;
        const stateDims = cell.stateShapes(x.shape).map((d) => d as number[]);
        let states: ops.Tensor[];
        if (initial.length > 0) states = initial;
        else if (stateful) {
          states = stateDims.map((_, i) => state[stateKey(i)]);
          if (states.some((s) => s === undefined || s.shape[0] !== batch))
            throw new ShapeMismatchError(`${where}: stateful states (call resetStates for another batch size)`, `states of batch ${batch}`, JSON.stringify(states.map((s) => s?.shape)));
        } else states = stateDims.map((d) => ops.zeros([batch, ...d]));
        for (let i = 0; i < states.length; i++) {
          const expected = [batch, ...stateDims[i]];
          if (!sameShape(states[i].shape, expected)) throw new ShapeMismatchError(`${where}: state ${i}`, expected, states[i].shape);
        }

        let dp: ops.Tensor[] | null = null;
        let rec: ops.Tensor[] | null = null;
        if (useDropout) {
          const key = options.key as Key;
          if (cell.dropoutMasks) ({ dp, rec } = cell.dropoutMasks(key, batch, x.shape.slice(2)));
          else if (cell.dropout > 0)
            dp = range(0, cell.inputMasks).map((i) => dropoutMask([batch, ...x.shape.slice(2)], cell.dropout, foldIn(key, `dropout_${i}`)));
          if (cell.recurrentDropout > 0 && !cell.dropoutMasks)
            rec = range(0, cell.recurrentMasks).map((i) => dropoutMask([batch, ...stateDims[0]], cell.recurrentDropout, foldIn(key, `recurrent_dropout_${i}`)));
        }

        let mask: ops.Tensor[] | null = null;
        if (rawMask) {
          if (rawMask.rank !== 2 || rawMask.shape[0] !== batch || rawMask.shape[1] !== steps)
            throw new ShapeMismatchError(`${where}: mask`, [batch, steps], rawMask.shape);
          let m = ops.cast(rawMask, 'float32');
          if (goBackwards) m = ops.reverse(m, 1);
          const outRank = 1 + stateDims[outIndex].length;
          mask = unstackTime(m).map((mt) => ops.reshape(mt, [batch, ...new Array<number>(outRank - 1).fill(1)]));
        }
        const xs = goBackwards ? ops.reverse(x, 1) : x;
        const projected = unstackTime(cell.project(params, xs, dp));
        const outputs: ops.Tensor[] = [];
        let prev: ops.Tensor | null = null;
        for (let t = 0; t < steps; t++) {
          const next = cell.step(params, projected[t], states, rec);
          let out = next[outIndex];
          if (mask) {
            const m = mask[t];
            const keep = ops.sub(1, m);
            const fallback = zeroOutputForMask || prev === null ? null : prev;
            out = fallback ? ops.add(ops.mul(out, m), ops.mul(fallback, keep)) : ops.mul(out, m);
            states = next.map((s, i) => ops.add(ops.mul(s, m), ops.mul(states[i], keep)));
          } else states = next;
          outputs.push(out);
          prev = out;
        }
        if (steps === 0) throw new ShapeMismatchError(where, 'at least one time step', x.shape);
        let y = returnSequences ? ops.stack(outputs, 1) : (prev as ops.Tensor);
        if (timeMajor && returnSequences) y = ops.transpose(y, [1, 0, ...range(2, y.rank)]);
        return { y, states };
      });
      if (!stateful && !returnState) ops.dispose(result.states.filter((s) => s !== result.y && !initial.includes(s)));
      const newState: Weights = stateful ? Object.fromEntries(result.states.map((s, i) => [stateKey(i), s === result.y ? ops.clone(s) : s])) : state;
      // Each output is its own tensor (the last output is often the first state), and never the returned layer state.
      const outputs: Tensors = returnState
        ? [result.y, ...result.states.map((s) => (stateful || s === result.y || initial.includes(s) ? ops.clone(s) : s))]
        : result.y;
      return { outputs, state: newState };
    },
    computeOutputShape: outShape,
    computeMask(_inputs, mask) {
      const m = Array.isArray(mask) ? (mask[0] ?? null) : (mask ?? null);
      const out = returnSequences ? m : null;
      return returnState ? [out, ...new Array<null>(stateCount).fill(null)] : out;
    },
    regularization: cell.regularization ? (p) => cell.regularization!(p) : undefined,
    activityRegularization: cell.activityRegularizer
      ? (y) => cell.activityRegularizer!.loss(Array.isArray(y) ? y[0] : y)
      : undefined,
    constrain: cell.constrain ? (p) => cell.constrain!(p) : undefined,
  });
  return Object.assign(layer, {
    stateCount,
    cell,
    recurrentState: true as const,
    resetStates(old: TensorTree, batchInputShape?: Shape): TensorTree {
      if (!stateful) return {};
      const shape = batchInputShape ?? (config.batch_input_shape as Shape | undefined);
      if (!shape) {
        // Same shapes as the current states.
        return Object.fromEntries(Object.entries(old).map(([k, v]) => [k, ops.zerosLike(v as ops.Tensor)]));
      }
      return zeroState(mainShape(shape));
    },
  });
}

/** Keras's `_generate_dropout_mask`: 0 or 1 / (1 - rate), one draw per (batch, feature), fixed across time steps. */
export function dropoutMask(shape: number[], rate: number, key: Key): ops.Tensor {
  return ops.tidy(() => {
    if (rate >= 1) return ops.zeros(shape);
    const keep = ops.cast(ops.greaterEqual(ops.randomUniform(shape, 0, 1, 'float32', seedOf(key)), rate), 'float32');
    return ops.mul(keep, 1 / (1 - rate));
  });
}

/** x (batch, time, features) times each mask (batch, features), broadcast over time. */
export function maskedInputs(x: ops.Tensor, dp: ops.Tensor[] | null, count: number): ops.Tensor[] {
  if (!dp) return new Array<ops.Tensor>(count).fill(x);
  return range(0, count).map((i) => ops.mul(x, ops.expandDims(dp[Math.min(i, dp.length - 1)], 1)));
}

/** (batch, time, in) @ (in, out) + bias as one matmul over batch * time. */
export function projectDense(x: ops.Tensor, kernel: ops.Tensor, bias: ops.Tensor | undefined): ops.Tensor {
  const [b, t, d] = x.shape;
  let y = ops.matMul(ops.reshape(x, [b * t, d]), kernel);
  if (bias) y = ops.add(y, bias);
  return ops.reshape(y, [b, t, kernel.shape[1] as number]);
}

/** Columns [from, to) of a 2-D weight. */
export function columns(w: ops.Tensor, from: number, to: number): ops.Tensor {
  return ops.slice(w, [0, from], [w.shape[0], to - from]);
}

/** Resets the recurrent states of every stateful layer in `layers` (a model's), returning the new state tree. */
export function resetStates(layers: readonly Layer[], state: TensorTree, batchInputShape?: Shape): TensorTree {
  const out: TensorTree = { ...state };
  for (const l of layers) {
    const r = l as Partial<RecurrentExtras> & Layer;
    if (r.recurrentState && typeof r.resetStates === 'function' && (l.config as { stateful?: boolean }).stateful) {
      out[l.name] = r.resetStates((state[l.name] ?? {}) as TensorTree, batchInputShape);
    }
  }
  return out;
}

export function isRecurrentLayer(l: Layer): l is RecurrentLayer {
  return (l as Partial<RecurrentExtras>).recurrentState === true;
}

/** The time steps of (batch, time, ...); tfjs's Unpack gradient fails with a single output, so one step is a reshape. */
function unstackTime(x: ops.Tensor): ops.Tensor[] {
  return x.shape[1] === 1 ? [ops.reshape(x, [x.shape[0], ...x.shape.slice(2)])] : ops.unstack(x, 1);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}


/** Decodes a recurrent layer's config with its own fields plus the RNN base keys. */
export function decodeRecurrentConfig<F>(className: string, fields: t.Decoder<unknown, F>, args: unknown): BaseLayerConfig & F & RnnConfig {
  return decodeLayerConfig(className, t.intersection([fields as unknown as t.Mixed, rnnFields]) as unknown as t.Decoder<unknown, F & RnnConfig>, legacyRecurrentArgs(args));
}

export type { ApplyOptions };
