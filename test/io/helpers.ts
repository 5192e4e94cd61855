import assert from 'node:assert/strict';
import * as ops from '../../src/ops/index.js';
import { withH5Read } from '../../src/models/io.js';

export const FIXTURES = new URL('../fixtures/keras/', import.meta.url).pathname;

/** The recorded inputs and predictions of a dl4j `*_inputs_and_outputs.h5` file. */
export async function readInputsAndPredictions(path: string): Promise<{ x: ops.Tensor[]; y: ops.Tensor[] }> {
  return withH5Read(path, (file) => {
    const ins = JSON.parse(file.attrs['inputs'].value as string).inputs as string[];
    const outs = JSON.parse(file.attrs['outputs'].value as string).outputs as string[];
    const get = (p: string) => {
      const d = file.get(p) as unknown as { value: Float32Array; shape: number[] };
      return ops.tensor(d.value, d.shape);
    };
    return { x: ins.map((n) => get(`inputs/${n}`)), y: outs.map((n) => get(`predictions/${n}`)) };
  });
}

/** max |a - b| <= rtol * max |b|: 1e-4 relative to the scale of the expected values. */
export function assertClose(actual: ops.Tensor, expected: ops.Tensor, rtol = 1e-4, what = 'values'): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  const b = expected.dataSync();
  let scale = 0;
  let err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  assert.ok(err <= rtol * Math.max(scale, 1e-12), `${what}: max abs error ${err} > ${rtol} x max |expected| ${scale}`);
}
