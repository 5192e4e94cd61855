import type { DataType } from '@tensorflow/tfjs-core';

/** Host arrays a traced value may hold (what tfjs backends store). */
export type HostArray = Float32Array | Int32Array | Uint8Array;

/**
 * One tensor's data on the compiled backend: concrete (`data` holds its
 * values, handed to ONNX Runtime without a copy) or pending (`node` will
 * compute it when the trace is flushed).
 */
export interface TraceValue {
  readonly id: number;
  readonly shape: number[];
  readonly dtype: DataType;
  refCount: number;
  data?: HostArray;
  node?: TraceNode;
  outIndex: number;
  /** Written by JavaScript during a trace (a number turned tensor, a random mask): small ones may be baked into the graph. */
  readonly hostConstant: boolean;
  /** Where `data` lives in the fused-update kernels' heap (a region freed with the value; reads copy it). */
  heapOffset?: number;
  /** A pending float32 value that ONNX Runtime should write straight into a heap region (a gradient the fused update reads next). */
  toHeap?: boolean;
  /** A pending float32 value that ONNX Runtime should write straight into this array, lent by the caller (a replica's part of the fused gradient buffer). */
  into?: Float32Array;
  /** The value whose data this one reshapes: read through it at run time (a heap region's view is renewed when the heap grows). */
  aliasOf?: TraceValue;
  /** Data lent by its owner (see CompiledBackend.lend): called once the backend no longer reads them. */
  release?: () => void;
}

/** One recorded kernel call. `signature` is its kernel name and attributes, as the cache key sees them. */
export interface TraceNode {
  readonly kernel: string;
  readonly attrs: Record<string, unknown>;
  readonly inputs: TraceValue[];
  readonly outputs: TraceValue[];
  readonly signature: string;
}

let nextId = 0;

export function concreteValue(data: HostArray, shape: number[], dtype: DataType, hostConstant: boolean): TraceValue {
  return { id: nextId++, shape, dtype, refCount: 1, data, outIndex: 0, hostConstant };
}

export function pendingValue(shape: number[], dtype: DataType): TraceValue {
  return { id: nextId++, shape, dtype, refCount: 1, outIndex: 0, hostConstant: false };
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A typed array of the dtype's kind, as tfjs backends store it. */
export function hostArray(dtype: DataType, values: ArrayLike<number> | HostArray, size: number): HostArray {
  if (dtype === 'float32') return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  if (dtype === 'int32') return values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
  if (dtype === 'bool') return values instanceof Uint8Array ? values : Uint8Array.from(values as ArrayLike<number>);
  throw new UnsupportedDtypeError(dtype, size);
}

/** The compiled backend handles float32, int32 and bool tensors only. */
export class UnsupportedDtypeError extends Error {
  constructor(readonly dtype: string, size: number) {
    super(`the compiled backend has no ${dtype} tensors (a tensor of ${size} elements)`);
    this.name = 'UnsupportedDtypeError';
  }
}
