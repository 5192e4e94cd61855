/**
 * Where a training state's gradients and float layer state sit in the one
 * flat buffer that data-parallel members reduce (the fused buffer), and how
 * a sharded update cuts it into the members' ranges and pieces.
 */
import type { Module } from '../training/module.js';
import type { TrainState } from '../training/types.js';
import type * as ops from '../ops/index.js';
import { leaves } from '../core/tree.js';

/** One value's place in the fused buffer. */
export interface FusedEntry {
  path: string;
  shape: number[];
  offset: number;
  size: number;
}

/** Where each gradient and each layer-state value sits in the fused buffer. */
export interface FusedLayout {
  grads: FusedEntry[];
  state: FusedEntry[];
  length: number;
}

/**
 * The fused-buffer layout of a training state: every trainable param's
 * gradient, then every float32 layer-state value (BatchNormalization's
 * moving statistics), in tree order. Replicas of one model get the same.
 */
export function fusedLayout(module: Module, ts: Pick<TrainState, 'params' | 'state'>): FusedLayout {
  const trainable = module.trainablePaths(ts.params);
  let offset = 0;
  const place = ([path, t]: [string, ops.Tensor]) => {
    const entry = { path, shape: [...t.shape], offset, size: t.size };
    offset += t.size;
    return entry;
  };
  const grads = leaves(ts.params).filter(([p]) => trainable.has(p)).map(place);
  const state = leaves(ts.state).filter(([, t]) => t.dtype === 'float32').map(place);
  return { grads, state, length: offset };
}

/**
 * Member r's range of the fused buffer for a sharded update; size + 1
 * offsets. The gradients are split evenly by element, in whole 16-float
 * vectors, as ZeRO partitions its flat buffers: one large value (a big
 * Dense kernel, an embedding) no longer leaves one member most of the
 * update while the others wait. The layer state goes with the last member.
 * With `wholeValues` (an optimizer that clips each gradient by its own
 * norm) a value goes whole to the member where it starts
 * (floor(offset * size / length)).
 */
export function ownedBounds(layout: FusedLayout, size: number, wholeValues = false): number[] {
  const bounds = [0];
  const gradsLength = layout.state[0]?.offset ?? layout.length;
  const entries = [...layout.grads, ...layout.state];
  for (let r = 1; r < size; r++) {
    if (wholeValues) {
      const first = entries.find((e) => Math.floor((e.offset * size) / Math.max(1, layout.length)) >= r);
      bounds.push(first ? first.offset : layout.length);
    } else bounds.push(Math.min(gradsLength, Math.floor((r * gradsLength) / size / 16) * 16));
  }
  bounds.push(layout.length);
  return bounds;
}

/** A member's part of one gradient: elements [start, end) of `entry`'s value. */
export interface Piece {
  entry: FusedEntry;
  start: number;
  end: number;
}

/** The parts of the gradients that lie in [from, to) of the fused buffer, in buffer order. */
export function piecesIn(layout: FusedLayout, from: number, to: number): Piece[] {
  return layout.grads.flatMap((entry) => {
    const start = Math.max(from, entry.offset) - entry.offset;
    const end = Math.min(to, entry.offset + entry.size) - entry.offset;
    return start < end ? [{ entry, start, end }] : [];
  });
}

export const isWhole = (p: Piece) => p.start === 0 && p.end === p.entry.size;

/** A piece as a value of its own in the fused buffer: the entry itself, or a flat part of it. */
export function pieceEntry(p: Piece): FusedEntry {
  return isWhole(p) ? p.entry : { path: p.entry.path, shape: [p.end - p.start], offset: p.entry.offset + p.start, size: p.end - p.start };
}

