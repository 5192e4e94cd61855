import * as ops from '../ops/index.js';
import { RxKerasError } from '../core/errors.js';

/** A function left tensors behind that it did not return. */
export class TensorLeakError extends RxKerasError {
  constructor(
    readonly what: string,
    readonly leaked: number,
  ) {
    super(`${what}: ${leaked} tensor${leaked === 1 ? '' : 's'} leaked (not disposed, not returned)`);
  }
}

/**
 * Runs `f` (sync or async) and throws TensorLeakError when more tensors are
 * alive afterwards than before, not counting the tensors in what `f`
 * returns (they are the caller's). Returns what `f` returned.
 */
export function expectNoLeaks<T>(f: () => T, what?: string): T;
export function expectNoLeaks<T>(f: () => Promise<T>, what?: string): Promise<T>;
export function expectNoLeaks<T>(f: () => T | Promise<T>, what = 'expectNoLeaks'): T | Promise<T> {
  const before = ops.memory().numTensors;
  const check = (value: T): T => {
    const returned = countTensors(value);
    const leaked = ops.memory().numTensors - before - returned;
    if (leaked > 0) throw new TensorLeakError(what, leaked);
    return value;
  };
  const out = f();
  return out instanceof Promise ? out.then(check) : check(out);
}

/** Distinct live tensors in a value (tensors, arrays and plain records of them). */
function countTensors(value: unknown, seen = new Set<ops.Tensor>()): number {
  if (value instanceof ops.Tensor) {
    if (!value.isDisposed) seen.add(value);
  } else if (Array.isArray(value)) value.forEach((v) => countTensors(v, seen));
  else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) Object.values(value).forEach((v) => countTensors(v, seen));
  return seen.size;
}
