import { firstValueFrom, toArray } from 'rxjs';
import * as tf from '@tensorflow/tfjs-core';
import { toObservable, type Dataset, type Example } from '../../streams/index.js';

/** Runs one pass and returns its elements (the caller owns them). */
export function collect<T>(ds: Dataset<T>, options: { prefetch?: number; epoch?: number } = {}): Promise<T[]> {
  return firstValueFrom(toObservable(ds, options).pipe(toArray()));
}

/** Runs one pass and returns x rows as numbers/arrays, disposing every element. */
export async function rowsOf(ds: Dataset<Example>, options: { epoch?: number } = {}): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const e of await collect(ds, options)) {
    out.push((e.x as tf.Tensor).arraySync());
    tf.dispose(Object.values(e) as tf.Tensor[]);
  }
  return out;
}

/** Counts live tensors above a baseline. */
export function liveTensors(baseline: number): number {
  return tf.memory().numTensors - baseline;
}
