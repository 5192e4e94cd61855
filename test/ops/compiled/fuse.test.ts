/**
 * fuseForAddon: a max-pooling gradient times the ReLU mask of the pooled
 * tensor (or of the ReLU's input) becomes one MaxPoolGrad with `positive`;
 * anything else is left as recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuseForAddon } from '../../../src/ops/compiled/fuse.js';
import { pendingValue, type TraceNode, type TraceValue } from '../../../src/ops/compiled/trace.js';

/** Records a call of `kernel` with one output of `x`'s shape (or `shape`). */
function call(nodes: TraceNode[], kernel: string, inputs: TraceValue[], attrs: Record<string, unknown> = {}, shape = inputs[0].shape): TraceValue {
  const out = pendingValue(shape, kernel === 'Step' || kernel === 'Cast' ? 'float32' : inputs[0].dtype);
  const node: TraceNode = { kernel, attrs, inputs, outputs: [out], signature: kernel };
  out.node = node;
  nodes.push(node);
  return out;
}

/** relu(z) pooled 2x2, its gradient times step(mask source), as tfjs records them. */
function trace(maskOf: 'relu' | 'input' | 'other', alpha = 0) {
  const nodes: TraceNode[] = [];
  const z = pendingValue([1, 4, 4, 2], 'float32');
  const other = pendingValue([1, 4, 4, 2], 'float32');
  const y = call(nodes, 'Relu', [z]);
  const pooled = call(nodes, 'MaxPool', [y], {}, [1, 2, 2, 2]);
  const dy = pendingValue([1, 2, 2, 2], 'float32');
  const g = call(nodes, 'MaxPoolGrad', [dy, call(nodes, 'Identity', [y]), pooled], { filterSize: 2 }, [1, 4, 4, 2]);
  const source = { relu: y, input: z, other }[maskOf];
  const mask = call(nodes, 'Cast', [call(nodes, 'Step', [call(nodes, 'Identity', [source])], { alpha })]);
  const dz = call(nodes, 'Multiply', [g, mask]);
  return { nodes, dy, dz, g };
}

for (const maskOf of ['relu', 'input'] as const)
  test(`the mask of the ReLU's ${maskOf === 'relu' ? 'output' : 'input'} folds into the pooling gradient; the mask's calls go`, () => {
    const { nodes, dy, dz } = trace(maskOf);
    const fused = fuseForAddon(nodes, [dz]);
    assert.deepEqual(fused.map((n) => n.kernel), ['Relu', 'MaxPool', 'Identity', 'MaxPoolGrad']);
    const grad = fused[3];
    assert.deepEqual(grad.attrs, { filterSize: 2, positive: true });
    assert.equal(grad.inputs[0], dy);
    assert.deepEqual(grad.outputs, [dz]);
  });

test('another mask, a leaky step, or a pooling gradient read elsewhere stays as recorded', () => {
  for (const [t, outputs] of [
    [trace('other'), (x: ReturnType<typeof trace>) => [x.dz]],
    [trace('relu', 0.1), (x: ReturnType<typeof trace>) => [x.dz]],
    [trace('relu'), (x: ReturnType<typeof trace>) => [x.dz, x.g]],
  ] as const) {
    const fused = fuseForAddon(t.nodes, outputs(t));
    assert.deepEqual(fused.map((n) => n.kernel), t.nodes.map((n) => n.kernel));
  }
});
