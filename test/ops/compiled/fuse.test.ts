/**
 * fuse.ts: a max-pooling gradient times the ReLU mask of the pooled
 * tensor (or of the ReLU's input) becomes one MaxPoolGrad with `positive`;
 * anything else is left as recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuse } from '../../../src/ops/compiled/fuse.js';
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
    const fused = fuse(nodes, [dz], true);
    assert.deepEqual(fused.map((n) => n.kernel), ['Relu', 'MaxPool', 'Identity', 'MaxPoolGrad']);
    const grad = fused[3];
    assert.deepEqual(grad.attrs, { filterSize: 2, positive: true });
    assert.equal(grad.inputs[0], dy);
    assert.deepEqual(grad.outputs, [dz]);
  });

test('the fused gradient summed per channel (a bias gradient) becomes its second output; a sum keeping dims does not', () => {
  for (const keepDims of [false, true]) {
    const { nodes, dz } = trace('relu');
    const db = call(nodes, 'Sum', [dz], { axis: [0, 1, 2], keepDims }, keepDims ? [1, 1, 1, 2] : [2]);
    const fused = fuse(nodes, [dz, db], true);
    assert.deepEqual(fused.map((n) => n.kernel), ['Relu', 'MaxPool', 'Identity', 'MaxPoolGrad', ...(keepDims ? ['Sum'] : [])]);
    assert.deepEqual(fused[3].outputs, keepDims ? [dz] : [dz, db]);
  }
});

test('another mask, a leaky step, or a pooling gradient read elsewhere stays as recorded', () => {
  for (const [t, outputs] of [
    [trace('other'), (x: ReturnType<typeof trace>) => [x.dz]],
    [trace('relu', 0.1), (x: ReturnType<typeof trace>) => [x.dz]],
    [trace('relu'), (x: ReturnType<typeof trace>) => [x.dz, x.g]],
  ] as const) {
    const fused = fuse(t.nodes, outputs(t), true);
    assert.deepEqual(fused.map((n) => n.kernel), t.nodes.map((n) => n.kernel));
  }
});

test('without the addon the pooling gradient and the mask stay as recorded', () => {
  const t = trace('relu');
  assert.deepEqual(fuse(t.nodes, [t.dz], false).map((n) => n.kernel), t.nodes.map((n) => n.kernel));
});

test('a convolution plus a bias per channel is one FusedConv2D with the bias; a bias of another shape is left', () => {
  const nodes: TraceNode[] = [];
  const [x, f, b, wide] = [[1, 5, 5, 3], [3, 3, 3, 4], [4], [3, 3, 4]].map((s) => pendingValue(s, 'float32'));
  const y = call(nodes, 'Conv2D', [x, f], { strides: 1, pad: 'valid' }, [1, 3, 3, 4]);
  const out = call(nodes, 'Add', [b, y], {}, [1, 3, 3, 4]);
  const fused = fuse(nodes, [out], false);
  assert.equal(fused.length, 1);
  assert.equal(fused[0].kernel, 'FusedConv2D');
  assert.deepEqual(fused[0].inputs, [x, f, b]);
  assert.deepEqual(fused[0].outputs, [out]);
  assert.deepEqual(fused[0].attrs, { strides: 1, pad: 'valid', activation: 'linear', _present: ['x', 'filter', 'bias'] });
  const other: TraceNode[] = [];
  const y2 = call(other, 'Conv2D', [x, f], {}, [1, 3, 3, 4]);
  call(other, 'Add', [y2, wide], {}, [1, 3, 3, 4]);
  assert.deepEqual(fuse(other, [other[1].outputs[0]], false).map((n) => n.kernel), ['Conv2D', 'Add']);
});
