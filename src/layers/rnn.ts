/**
 * Keras's generic `RNN` layer over cells: `RNN({ cell: LSTMCell({ units: 8 }) })`,
 * or a list of cells (Keras's `StackedRNNCells`).
 *
 * The cells are the very cells SimpleRNN, LSTM and GRU loop over (a cell
 * factory builds the layer and takes its cell), so `RNN(LSTMCell(c))` computes
 * what `LSTM(c)` computes. As in tf.keras 2:
 *
 * - the config holds `cell` as `{ class_name, config }` (`StackedRNNCells`
 *   with `config.cells` for a list); a cell's config has the cell's keys only
 *   (no `return_sequences`, no `activity_regularizer`), and LSTMCell / GRUCell
 *   default to `implementation` 1 (their layers to 2);
 * - the weights belong to the cell, built under its name scope:
 *   `rnn/lstm_cell/kernel:0`, `rnn/lstm_cell/recurrent_kernel:0`,
 *   `rnn/lstm_cell/bias:0`; stacked: `rnn/stacked_rnn_cells/lstm_cell/kernel:0`,
 *   ..., then `.../lstm_cell_1/...`, cell by cell;
 * - a stack's states are every cell's states in order, flat
 *   ([h1, c1, h2, c2] for two LSTM cells): the `return_state` outputs and the
 *   `initial_state` inputs; the output is the last cell's output; each cell
 *   applies its own dropout to its input (the previous cell's output) and its
 *   own recurrent dropout.
 *
 * `unroll` is kept in the config; the loop over time steps is the same either way.
 */
import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { ConfigDecodeError } from '../core/errors.js';
import { uniqueName, toSnakeCase } from '../core/names.js';
import { foldIn, type Key } from '../core/rng.js';
import { GRU } from './gru.js';
import { LSTM } from './lstm.js';
import { SimpleRNN } from './simple-rnn.js';
import type { Shape, Weights } from './layer.js';
import { decodeRecurrentConfig, defineRecurrent, dropoutMask, range, type Cell, type RecurrentLayer } from './rnn-core.js';

export type CellClassName = 'SimpleRNNCell' | 'LSTMCell' | 'GRUCell' | 'StackedRNNCells';

/** A Keras RNN cell value: what `RNN({ cell })` takes (or its `{ class_name, config }`). */
export interface RnnCell {
  readonly kind: 'RnnCell';
  readonly className: CellClassName;
  /** The cell's name: the scope of its weights ('lstm_cell', 'lstm_cell_1', 'stacked_rnn_cells'). */
  readonly name: string;
  /** Number of states (a stack: every cell's). */
  readonly stateCount: number;
  /** The recurrent machinery, with flat params ({ kernel, recurrent_kernel, bias }; a stack: one tree per cell name). */
  readonly cell: Cell;
  /** Keras's get_config of the cell. */
  getConfig(): Record<string, unknown>;
}

/** A cell serialised as Keras does. */
export interface SerializedCell {
  class_name: string;
  config?: unknown;
}

export type CellSpec = RnnCell | SerializedCell;

export function isRnnCell(x: unknown): x is RnnCell {
  return typeof x === 'object' && x !== null && (x as RnnCell).kind === 'RnnCell';
}

/** Keys of the RNN layer (and of Layer) that a cell's config must not hold. */
const NOT_CELL_KEYS = ['return_sequences', 'return_state', 'go_backwards', 'stateful', 'unroll', 'time_major', 'zero_output_for_mask', 'activity_regularizer', 'batch_input_shape', 'input_shape'];
const COMMON_CELL_KEYS = [
  'units', 'activation', 'use_bias', 'kernel_initializer', 'recurrent_initializer', 'bias_initializer', 'kernel_regularizer',
  'recurrent_regularizer', 'bias_regularizer', 'kernel_constraint', 'recurrent_constraint', 'bias_constraint', 'dropout', 'recurrent_dropout',
];

type CellArgs = { units: number; name?: string; [key: string]: unknown };
export type SimpleRNNCellArgs = CellArgs;
export type LSTMCellArgs = CellArgs;
export type GRUCellArgs = CellArgs;

function baseCell(
  className: 'SimpleRNNCell' | 'LSTMCell' | 'GRUCell',
  args: CellArgs,
  layer: (a: Record<string, unknown>) => RecurrentLayer,
  defaults: Record<string, unknown>,
  ownKeys: string[],
): RnnCell {
  const raw = { ...((args ?? {}) as Record<string, unknown>) };
  const where = `${className} config`;
  for (const k of NOT_CELL_KEYS) if (raw[k] !== undefined) throw new ConfigDecodeError(k, `no '${k}' (a key of the RNN layer, not of its cell)`, raw[k], where);
  if (raw.name !== undefined && typeof raw.name !== 'string') throw new ConfigDecodeError('name', 'a string', raw.name, where);
  const name = (raw.name as string | undefined) ?? uniqueName(toSnakeCase(className));
  const l = layer({ ...defaults, ...raw, name });
  const full = l.getConfig() as Record<string, unknown>;
  const config: Record<string, unknown> = { name, trainable: full.trainable, dtype: full.dtype };
  for (const k of [...COMMON_CELL_KEYS, ...ownKeys]) config[k] = full[k];
  const cell: Cell = { ...l.cell!, activityRegularizer: null };
  return {
    kind: 'RnnCell',
    className,
    name,
    stateCount: l.stateCount,
    cell,
    getConfig: () => structuredClone(config),
  };
}

/** Keras `SimpleRNNCell` (the cell of SimpleRNN): weights kernel, recurrent_kernel, bias. */
export function SimpleRNNCell(args: SimpleRNNCellArgs): RnnCell {
  return baseCell('SimpleRNNCell', args, (a) => SimpleRNN(a as never), {}, []);
}

/** Keras `LSTMCell` (tf.keras 2: recurrent_activation 'sigmoid', unit_forget_bias, implementation 1). */
export function LSTMCell(args: LSTMCellArgs): RnnCell {
  return baseCell('LSTMCell', args, (a) => LSTM(a as never), { implementation: 1 }, ['recurrent_activation', 'unit_forget_bias', 'implementation']);
}

/** Keras `GRUCell` (tf.keras 2: reset_after true, recurrent_activation 'sigmoid', implementation 1). */
export function GRUCell(args: GRUCellArgs): RnnCell {
  return baseCell('GRUCell', args, (a) => GRU(a as never), { implementation: 1 }, ['recurrent_activation', 'implementation', 'reset_after']);
}

export interface StackedRNNCellsArgs {
  cells: CellSpec[];
  name?: string;
  [key: string]: unknown;
}

/** Keras `StackedRNNCells`: the cells one after the other at each time step; states flat, cell by cell. */
export function StackedRNNCells(args: StackedRNNCellsArgs): RnnCell {
  const where = 'StackedRNNCells config';
  const raw = (args ?? {}) as StackedRNNCellsArgs;
  if (!Array.isArray(raw.cells) || raw.cells.length === 0) throw new ConfigDecodeError('cells', 'a non-empty list of cells', raw.cells, where);
  if (raw.name !== undefined && typeof raw.name !== 'string') throw new ConfigDecodeError('name', 'a string', raw.name, where);
  const cells = raw.cells.map((s, i) => cellFrom(s, `${where}.cells[${i}]`));
  const names = cells.map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new ConfigDecodeError('cells', 'cells with distinct names (their weights are scoped by name)', dup, where);
  const name = raw.name ?? uniqueName(toSnakeCase('StackedRNNCells'));
  const config = { name, trainable: raw.trainable ?? true, dtype: 'float32', cells: cells.map((c) => ({ class_name: c.className, config: c.getConfig() })) };
  return {
    kind: 'RnnCell',
    className: 'StackedRNNCells',
    name,
    stateCount: cells.reduce((n, c) => n + c.stateCount, 0),
    cell: stackCells(cells),
    getConfig: () => structuredClone(config),
  };
}

const cellTable: Record<string, (config: never) => RnnCell> = { SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells };

/** A cell from its value, its `{ class_name, config }`, or a list of them (a StackedRNNCells). */
export function cellFrom(spec: unknown, where = 'RNN config.cell'): RnnCell {
  if (isRnnCell(spec)) return spec;
  if (Array.isArray(spec)) return StackedRNNCells({ cells: spec as CellSpec[] });
  if (typeof spec !== 'object' || spec === null || typeof (spec as SerializedCell).class_name !== 'string')
    throw new ConfigDecodeError('cell', 'a cell (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells), its { class_name, config }, or a list of them', spec, where);
  const s = spec as SerializedCell;
  const make = cellTable[s.class_name];
  if (!make) throw new ConfigDecodeError('cell.class_name', `one of ${Object.keys(cellTable).join(', ')}`, s.class_name, where);
  return make((s.config ?? {}) as never);
}

// ---- the cell machinery of a stack, and scoping by name ----------------------------

const sub = (p: Weights, name: string): Weights => (p as unknown as Record<string, Weights>)[name];

/** A cell whose params live under `name` (RNN's weights `rnn/<cell name>/...`). */
function scoped(name: string, c: Cell): Cell {
  return {
    ...c,
    init: (key, s) => ({ [name]: c.init(key, s) }) as unknown as Weights,
    project: (p, x, dp) => c.project(sub(p, name), x, dp),
    step: (p, xt, states, rec) => c.step(sub(p, name), xt, states, rec),
    regularization: c.regularization ? (p) => c.regularization!(sub(p, name)) : undefined,
    constrain: c.constrain ? (p) => ({ [name]: c.constrain!(sub(p, name)) }) as unknown as Weights : undefined,
  };
}

/** Per-time-step input of a cell in a stack: (batch, ...features) as a one-step sequence. */
const oneStep = (x: ops.Tensor): ops.Tensor => ops.expandDims(x, 1);
const dropTime = (y: ops.Tensor): ops.Tensor => ops.reshape(y, [y.shape[0], ...y.shape.slice(2)]);

function stackCells(cells: RnnCell[]): Cell {
  const counts = cells.map((c) => c.stateCount);
  const offsets = counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
  const outs = cells.map((c) => c.cell.outputState ?? 0);
  const last = cells.length - 1;
  // Masks per cell: input dropout (cell 0's go to project as dp; later cells' travel in rec, after every recurrent mask).
  const inCount = cells.map((c) => (c.cell.dropout > 0 ? c.cell.inputMasks : 0));
  const recCount = cells.map((c) => (c.cell.recurrentDropout > 0 ? c.cell.recurrentMasks : 0));
  const recOffsets = recCount.map((_, i) => recCount.slice(0, i).reduce((a, b) => a + b, 0));
  const recTotal = recCount.reduce((a, b) => a + b, 0);
  const inOffsets = inCount.map((_, i) => recTotal + inCount.slice(1, i).reduce((a, b) => a + b, 0));
  const slice = (list: ops.Tensor[] | null, from: number, n: number) => (list && n > 0 ? list.slice(from, from + n) : null);

  /** The state shapes of each cell, and each cell's input shape (batch, time, features). */
  const chain = (inputShape: Shape) => {
    let s = inputShape;
    const inputs: Shape[] = [];
    const states: (number | null)[][] = [];
    cells.forEach((c, k) => {
      inputs.push(s);
      const st = c.cell.stateShapes(s);
      states.push(...st);
      s = [s[0], s[1], ...st[outs[k]]];
    });
    return { inputs, states };
  };
  const penalties = (p: Weights): ops.Scalar | null => {
    const parts = cells.map((c) => (c.cell.regularization ? c.cell.regularization(sub(p, c.name)) : null)).filter((x): x is ops.Scalar => x !== null);
    if (parts.length === 0) return null;
    if (parts.length === 1) return parts[0];
    const total = ops.addN(parts) as ops.Scalar;
    ops.dispose(parts);
    return total;
  };
  const anyConstraint = cells.some((c) => c.cell.constrain);
  return {
    stateShapes: (s) => chain(s).states,
    init(key: Key, s: Shape) {
      const { inputs } = chain(s);
      // Keys by position, not by name: default cell names depend on how many cells were made before.
      return Object.fromEntries(cells.map((c, k) => [c.name, c.cell.init(foldIn(key, `cell_${k}`), inputs[k])])) as unknown as Weights;
    },
    dropout: Math.max(...cells.map((c) => c.cell.dropout)),
    recurrentDropout: Math.max(...cells.map((c) => c.cell.recurrentDropout)),
    inputMasks: 0,
    recurrentMasks: 0,
    dropoutMasks(key, batch, featureShape) {
      const states = chain([batch, null, ...featureShape]).states;
      let features = featureShape;
      const dp: ops.Tensor[] = [];
      const rec: ops.Tensor[] = [];
      const later: ops.Tensor[] = [];
      cells.forEach((c, k) => {
        const outShape = states[offsets[k] + outs[k]] as number[];
        const kk = foldIn(key, `cell_${k}`);
        const ins = range(0, inCount[k]).map((i) => dropoutMask([batch, ...features], c.cell.dropout, foldIn(kk, `dropout_${i}`)));
        (k === 0 ? dp : later).push(...ins);
        rec.push(...range(0, recCount[k]).map((i) => dropoutMask([batch, ...outShape], c.cell.recurrentDropout, foldIn(kk, `recurrent_dropout_${i}`))));
        features = outShape;
      });
      return { dp: dp.length ? dp : null, rec: [...rec, ...later] };
    },
    project: (p, x, dp) => cells[0].cell.project(sub(p, cells[0].name), x, slice(dp, 0, inCount[0])),
    step(p, xt, states, rec) {
      const next: ops.Tensor[] = [];
      let input = xt;
      cells.forEach((c, k) => {
        const pk = sub(p, c.name);
        if (k > 0) input = dropTime(c.cell.project(pk, oneStep(input), slice(rec, inOffsets[k], inCount[k])));
        const out = c.cell.step(pk, input, states.slice(offsets[k], offsets[k] + counts[k]), slice(rec, recOffsets[k], recCount[k]));
        next.push(...out);
        input = out[outs[k]];
      });
      return next;
    },
    outputState: offsets[last] + outs[last],
    regularization: cells.some((c) => c.cell.regularization) ? penalties : undefined,
    constrain: anyConstraint
      ? (p) => Object.fromEntries(cells.map((c) => [c.name, c.cell.constrain ? c.cell.constrain(sub(p, c.name)) : sub(p, c.name)])) as unknown as Weights
      : undefined,
    activityRegularizer: null,
  };
}

// ---- the layer ---------------------------------------------------------------

const fields = t.type({ cell: t.unknown });

export interface RNNArgs {
  /** A cell, its `{ class_name, config }`, or a list of them (stacked). */
  cell: CellSpec | CellSpec[];
  return_sequences?: boolean;
  return_state?: boolean;
  go_backwards?: boolean;
  stateful?: boolean;
  unroll?: boolean;
  time_major?: boolean;
  [key: string]: unknown;
}

/** Keras `RNN`: the recurrent loop over a cell (or a stack of cells), with Keras's config and weight names. */
export function RNN(args: RNNArgs): RecurrentLayer {
  const c = decodeRecurrentConfig('RNN', fields, args);
  const cell = cellFrom(c.cell, `RNN '${c.name}' config.cell`);
  return defineRecurrent({
    className: 'RNN',
    config: { ...c, cell: { class_name: cell.className, config: cell.getConfig() } },
    featureRank: 1,
    cell: scoped(cell.name, cell.cell),
  });
}
