import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { PYTHON } from '../helpers/python.js';

/** Runs test/optimizers/keras_reference.py (Debian's python3 with numpy, see test/helpers/python.ts) on a JSON request. */
export function kerasReference<T>(request: unknown): T {
  const script = fileURLToPath(new URL('./keras_reference.py', import.meta.url));
  const out = execFileSync(PYTHON, [script], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out) as T;
}

/** Element-wise |actual - expected| <= rtol * |expected| + atol, with the first failing index in the message. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { rtol = 1e-5, atol = 0 } = {}, what = ''): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= rtol * Math.abs(e) + atol))
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${rtol} * |expected| + ${atol})`);
  }
}
