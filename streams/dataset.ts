import type { Observable } from 'rxjs';

/**
 * Information about one pass (one epoch) over a data set. Operators that
 * depend on the epoch (shuffle) derive their randomness from it, so the order
 * of epoch `e` is the same whether or not epochs `0..e-1` ran before it.
 */
export interface Pass {
  readonly epoch: number;
}

export const FIRST_PASS: Pass = { epoch: 0 };

/**
 * Random access into a data set of known length. `read` returns fresh
 * elements that the caller owns (one per index, in the order asked).
 */
export interface Indexed<T> {
  readonly length: number;
  read(indices: ArrayLike<number>, pass: Pass): T[];
  /**
   * Optional, for sources that read ahead off the main thread
   * (fromHdf5Batches): a pass over elements `at(0), at(1), ..., at(length - 1)`
   * under the pull protocol. Index operators (shuffle, take, skip, shard,
   * splitValidation) compose `at`, so their passes keep reading through it.
   */
  openOrder?(at: (i: number) => number, length: number, demand: Observable<number>, pass: Pass): Observable<T>;
}

export interface DatasetInfo<T> {
  /** Number of elements of one pass, when known without reading. */
  readonly length?: number;
  /** Present when the data set supports random access (arrays, tensors, HDF5). */
  readonly indexed?: Indexed<T>;
  /** True once a shuffle is applied: splitValidation refuses shuffled data, as Keras splits before shuffling. */
  readonly shuffled?: boolean;
}

/**
 * The pull protocol. `open(demand, pass)` starts one pass over the data and
 * returns a cold Observable: nothing happens until it is subscribed; then each
 * value `n` that `demand` emits grants `n` more elements, and the pass never
 * emits more elements than were granted in total. It completes when the data
 * run out (possibly while demand is outstanding). Each subscription is an
 * independent pass. An emitted element belongs to the subscriber, which
 * disposes its tensors.
 */
export type OpenPass<T> = (demand: Observable<number>, pass?: Pass) => Observable<T>;

export type DatasetOperator<A, B> = (source: Dataset<A>) => Dataset<B>;

/** A lazy, cold, pull-based data set: a factory of passes. */
export class Dataset<T> {
  constructor(
    readonly open: OpenPass<T>,
    readonly info: DatasetInfo<T> = {},
  ) {}

  /** Number of elements in one pass, when known. */
  get length(): number | undefined {
    return this.info.indexed?.length ?? this.info.length;
  }

  pipe(): Dataset<T>;
  pipe<A>(op1: (d: Dataset<T>) => A): A;
  pipe<A, B>(op1: (d: Dataset<T>) => A, op2: (a: A) => B): B;
  pipe<A, B, C>(op1: (d: Dataset<T>) => A, op2: (a: A) => B, op3: (b: B) => C): C;
  pipe<A, B, C, D>(op1: (d: Dataset<T>) => A, op2: (a: A) => B, op3: (b: B) => C, op4: (c: C) => D): D;
  pipe<A, B, C, D, E>(op1: (d: Dataset<T>) => A, op2: (a: A) => B, op3: (b: B) => C, op4: (c: C) => D, op5: (d: D) => E): E;
  pipe<A, B, C, D, E, F>(
    op1: (d: Dataset<T>) => A, op2: (a: A) => B, op3: (b: B) => C, op4: (c: C) => D, op5: (d: D) => E, op6: (e: E) => F,
  ): F;
  pipe<A, B, C, D, E, F, G>(
    op1: (d: Dataset<T>) => A, op2: (a: A) => B, op3: (b: B) => C, op4: (c: C) => D, op5: (d: D) => E, op6: (e: E) => F,
    op7: (f: F) => G,
  ): G;
  pipe(...ops: ((x: never) => unknown)[]): unknown;
  pipe(...ops: ((x: never) => unknown)[]): unknown {
    return ops.reduce<unknown>((acc, op) => (op as (x: unknown) => unknown)(acc), this);
  }
}
