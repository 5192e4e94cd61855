/**
 * Attention, AdditiveAttention and MultiHeadAttention against a numpy
 * (float64) re-implementation of tf.keras 2's formulas (BaseDenseAttention,
 * MultiHeadAttention's einsum equations, built as Keras builds them) with the
 * same weights, within 1e-5 relative: score modes, scales, value/query masks,
 * the deprecated `causal` key, 3 inputs, MHA attention_axes on rank-4 inputs
 * and output_shape. Gradients against central finite differences (eps 1e-2,
 * rtol 2e-2); each trains on a toy task on wasm and cpu; run_layer_test;
 * MultiHeadAttention's weights are named and shaped as tf.keras 2 saves them.
 */
import { backendReady, onBackend } from '../helpers/backend.js';
await backendReady;

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { runLayerTest, type LayerTestCase } from '../../src/testing/index.js';
import * as L from '../../src/layers/index.js';
import type { Layer, Weights } from '../../src/layers/layer.js';
import { layerSlots } from '../../src/io/weights.js';
import { checkLayerGradients, randomParams } from '../../src/testing/index.js';
import { trainToy } from '../helpers/train-toy.js';
import { needsPython } from '../helpers/python.js';
import { numpy, relError, toJson, type NdArray } from './numpy-reference.js';

const cases: [string, () => LayerTestCase][] = [
  ['Attention', () => ({ layer: L.Attention(), inputShape: [[null, 3, 4], [null, 5, 4]], expectedParams: 0, expectedOutputShape: [null, 3, 4] })],
  ['Attention scale concat key', () => ({ layer: L.Attention({ use_scale: true, score_mode: 'concat', dropout: 0.2 }), inputShape: [[null, 3, 4], [null, 5, 6], [null, 5, 4]], expectedParams: 2, expectedOutputShape: [null, 3, 6], training: true })],
  ['AdditiveAttention', () => ({ layer: L.AdditiveAttention(), inputShape: [[null, 3, 4], [null, 5, 4]], expectedParams: 4 })],
  ['MultiHeadAttention', () => ({ layer: L.MultiHeadAttention({ num_heads: 2, key_dim: 3 }), inputShape: [[null, 4, 6], [null, 5, 6]], expectedParams: 168, expectedOutputShape: [null, 4, 6] })],
  ['MultiHeadAttention value_dim output_shape key dropout', () => ({
    layer: L.MultiHeadAttention({ num_heads: 2, key_dim: 3, value_dim: 2, output_shape: [2, 3], dropout: 0.3, use_bias: false }),
    inputShape: [[null, 4, 6], [null, 5, 5], [null, 5, 7]],
    expectedParams: 6 * 6 + 7 * 6 + 5 * 4 + 4 * 6,
    expectedOutputShape: [null, 4, 2, 3],
    training: true,
  })],
  ['MultiHeadAttention attention_axes', () => ({ layer: L.MultiHeadAttention({ num_heads: 2, key_dim: 2, attention_axes: [2] }), inputShape: [[null, 3, 4, 5], [null, 3, 2, 5]], expectedParams: 3 * (5 * 2 * 2 + 2 * 2) + (2 * 2 * 5 + 5) })],
];
for (const [name, make] of cases) test(`run_layer_test: ${name}`, () => runLayerTest(make()));

test('configs, default names and weights follow tf.keras 2', () => {
  const a = L.Attention();
  assert.match(a.name, /^attention(_\d+)?$/);
  assert.deepEqual(pick(a.getConfig(), ['use_scale', 'score_mode', 'dropout']), { use_scale: false, score_mode: 'dot', dropout: 0 });
  assert.equal('causal' in a.getConfig(), false);
  assert.equal(L.Attention({ causal: true }).getConfig().causal, true);
  const add = L.AdditiveAttention();
  assert.match(add.name, /^additive_attention(_\d+)?$/);
  assert.deepEqual(pick(add.getConfig(), ['use_scale', 'dropout']), { use_scale: true, dropout: 0 });
  assert.throws(() => L.Attention({ score_mode: 'add' }), /score_mode/);
  const mha = L.MultiHeadAttention({ num_heads: 2, key_dim: 3, attention_axes: 1 });
  assert.match(mha.name, /^multi_head_attention(_\d+)?$/);
  assert.deepEqual(pick(mha.getConfig(), ['num_heads', 'key_dim', 'value_dim', 'dropout', 'use_bias', 'output_shape', 'attention_axes', 'query_shape']), {
    num_heads: 2, key_dim: 3, value_dim: 3, dropout: 0, use_bias: true, output_shape: null, attention_axes: [1], query_shape: null,
  });
  const { params } = L.MultiHeadAttention({ num_heads: 2, key_dim: 3, value_dim: 4, output_shape: 7, name: 'mha' }).init(1, [[null, 5, 6], [null, 8, 9]]);
  const layer = L.MultiHeadAttention({ num_heads: 2, key_dim: 3, value_dim: 4, output_shape: 7, name: 'mha' });
  const slots = layerSlots(layer, { params: { mha: params }, state: {} });
  assert.deepEqual(
    slots.map((s) => [s.name, s.tensor.shape]),
    [
      ['mha/query/kernel:0', [6, 2, 3]], ['mha/query/bias:0', [2, 3]],
      ['mha/key/kernel:0', [9, 2, 3]], ['mha/key/bias:0', [2, 3]],
      ['mha/value/kernel:0', [9, 2, 4]], ['mha/value/bias:0', [2, 4]],
      ['mha/attention_output/kernel:0', [2, 4, 7]], ['mha/attention_output/bias:0', [7]],
    ],
  );
  tf.dispose(Object.values(params));
  const { params: ap } = L.Attention({ use_scale: true, score_mode: 'concat' }).init(1, [[null, 2, 3], [null, 2, 3]]);
  assert.deepEqual(Object.entries(ap).map(([k, v]) => [k, v.shape, v.dataSync()[0]]), [['scale', [], 1], ['concat_score_weight', [], 1]]);
  tf.dispose(Object.values(ap));
});

function pick(o: Record<string, unknown>, keys: string[]) {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

const PY_DENSE = `
def softmax(s, axes=(-1,)):
    m = s.max(axis=axes, keepdims=True); e = np.exp(s - m); return e / e.sum(axis=axes, keepdims=True)
def dense_attention(run):
    cfg = run['cfg']; q = arr(run['inputs'][0]); v = arr(run['inputs'][1]); k = arr(run['inputs'][2]) if len(run['inputs']) > 2 else v
    p = {n: arr(t) for n, t in run['params'].items()}
    if run['kind'] == 'Attention':
        if cfg['score_mode'] == 'dot':
            s = q @ np.swapaxes(k, -1, -2)
            if cfg['use_scale']: s = s * p['scale']
        else:
            z = q[..., :, None, :] + k[..., None, :, :]
            if cfg['use_scale']: z = p['scale'] * z
            s = p['concat_score_weight'] * np.tanh(z).sum(-1)
    else:
        th = np.tanh(q[..., :, None, :] + k[..., None, :, :])
        s = ((p['scale'] * th) if cfg['use_scale'] else th).sum(-1)
    masks = run.get('masks') or [None, None]
    allowed = None
    if masks[1] is not None: allowed = arr(masks[1])[:, None, :].astype(bool)
    if cfg.get('causal'):
        tq, tv = s.shape[-2:]
        tri = np.tril(np.ones((tq, tv), dtype=bool))[None]
        allowed = tri if allowed is None else (allowed & tri)
    if allowed is not None: s = s - 1e9 * (~allowed)
    y = softmax(s) @ v
    if masks[0] is not None: y = y * arr(masks[0])[:, :, None]
    return y
`;
const PY_ARR = `
def arr(t): return A(t['data']).reshape(t['shape'])
`;

interface Run {
  kind: string;
  layer: Layer;
  inputs: tf.Tensor[];
  params: Weights;
  masks?: (tf.Tensor | null)[];
}
const asJson = (r: Run) => ({
  kind: r.kind,
  cfg: r.layer.getConfig(),
  inputs: r.inputs.map(toJson),
  params: Object.fromEntries(Object.entries(r.params).map(([k, v]) => [k, toJson(v)])),
  masks: r.masks?.map((m) => (m ? toJson(m) : null)),
});

test('Attention and AdditiveAttention match numpy', { skip: needsPython('numpy') }, () => {
  const q = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
  const v = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 2);
  const k = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 3);
  const v6 = tf.randomNormal([2, 5, 6], 0, 1, 'float32', 4);
  const qm = tf.cast(tf.tensor2d([[1, 1, 0], [1, 1, 1]]), 'bool');
  const vm = tf.cast(tf.tensor2d([[1, 0, 1, 1, 0], [1, 1, 1, 0, 0]]), 'bool');
  const make = (kind: string, layer: Layer, inputs: tf.Tensor[], masks?: (tf.Tensor | null)[]): Run => ({
    kind, layer, inputs, masks, params: randomParams(layer, inputs.map((x) => [null, ...x.shape.slice(1)]), 50),
  });
  const runs: Run[] = [
    make('Attention', L.Attention(), [q, v]),
    make('Attention', L.Attention({ use_scale: true }), [q, v6, k]),
    make('Attention', L.Attention({ score_mode: 'concat' }), [q, v]),
    make('Attention', L.Attention({ score_mode: 'concat', use_scale: true }), [q, v, k], [qm, vm]),
    make('Attention', L.Attention({ causal: true }), [q, v], [null, vm]),
    make('AdditiveAttention', L.AdditiveAttention(), [q, v]),
    make('AdditiveAttention', L.AdditiveAttention({ use_scale: false }), [q, v6, k], [qm, null]),
    make('AdditiveAttention', L.AdditiveAttention(), [q, v], [qm, vm]),
  ];
  const outs = runs.map((r) => r.layer.apply(r.params, {}, r.inputs, { training: false, mask: r.masks }).outputs as tf.Tensor);
  const ref = numpy<NdArray[]>(`${PY_ARR}${PY_DENSE}\nR = [dense_attention(r) for r in D]`, runs.map(asJson));
  outs.forEach((y, i) => {
    const err = relError(y, ref[i]);
    assert.ok(err <= 1e-5, `run ${i} (${runs[i].kind} ${JSON.stringify(pick(runs[i].layer.getConfig(), ['use_scale', 'score_mode', 'causal']))}): ${err}`);
  });
  const outMask = runs[3].layer.computeMask!(runs[3].inputs, [qm, vm]);
  assert.equal(outMask, qm);
  tf.dispose([q, v, k, v6, qm, vm, ...outs, ...runs.flatMap((r) => Object.values(r.params))]);
});

const PY_MHA = `
import string
CH = string.ascii_lowercase
def attention_equation(rank, attn_axes):
    target = CH[:rank]
    batch_dims = tuple(np.delete(range(rank), attn_axes + (rank - 1,)))
    off = rank; source = ''
    for i in range(rank):
        if i in batch_dims or i == rank - 1: source += target[i]
        else: source += CH[off]; off += 1
    product = ''.join([target[i] for i in batch_dims] + [target[i] for i in attn_axes] + [source[i] for i in attn_axes])
    return '%s,%s->%s' % (source, target, product), '%s,%s->%s' % (product, source, target), len(product)
def proj_equation(free, bound, out):
    i_s = k_s = o_s = ''
    for i in range(free): c = CH[i]; i_s += c; o_s += c
    for i in range(bound): c = CH[free + i]; i_s += c; k_s += c
    for i in range(out): c = CH[free + bound + i]; k_s += c; o_s += c
    return '%s,%s->%s' % (i_s, k_s, o_s)
def mha(run):
    cfg = run['cfg']; q = arr(run['inputs'][0]); v = arr(run['inputs'][1]); k = arr(run['inputs'][2]) if len(run['inputs']) > 2 else v
    p = {n: arr(t) for n, t in run['params'].items()}
    def dense(name, x, bound):
        kern = p[name + '/kernel']
        y = np.einsum(proj_equation(x.ndim - bound, bound, kern.ndim - bound), x, kern)
        return y + p[name + '/bias'] if name + '/bias' in p else y
    qp = dense('query', q, 1); kp = dense('key', k, 1); vp = dense('value', v, 1)
    rank = qp.ndim
    axes = tuple(range(1, rank - 2)) if cfg['attention_axes'] is None else tuple(cfg['attention_axes'])
    dot_eq, comb_eq, srank = attention_equation(rank, axes)
    qp = qp * (1.0 / np.sqrt(float(cfg['key_dim'])))
    s = np.einsum(dot_eq, kp, qp)
    masks = run.get('masks')
    if masks:
        auto = None
        if masks[0] is not None: auto = arr(masks[0]).astype(bool)[:, :, None]
        for m in masks[1:]:
            if m is not None:
                mm = arr(m).astype(bool)[:, None, :]; auto = mm if auto is None else auto & mm
        # Keras adds the mask in float32, where s - 1e9 loses s: a fully masked row is uniform.
        if auto is not None: s = (s.astype(np.float32) + ((1.0 - auto[:, None]) * -1e9).astype(np.float32)).astype(np.float64)
    norm = tuple(range(srank - len(axes), srank))
    e = np.exp(s - s.max(axis=norm, keepdims=True)); probs = e / e.sum(axis=norm, keepdims=True)
    o = np.einsum(comb_eq, probs, vp)
    return dense('attention_output', o, 2)
`;

test('MultiHeadAttention matches numpy (Keras einsum equations)', { skip: needsPython('numpy') }, () => {
  const runs: Run[] = [];
  const add = (layer: Layer, shapes: number[][], seed: number, masks?: (tf.Tensor | null)[]) => {
    const inputs = shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', seed + i));
    runs.push({ kind: 'MHA', layer, inputs, masks, params: randomParams(layer, shapes.map((s) => [null, ...s.slice(1)]), seed + 10) });
  };
  add(L.MultiHeadAttention({ num_heads: 2, key_dim: 3 }), [[2, 4, 6], [2, 5, 6]], 1);
  add(L.MultiHeadAttention({ num_heads: 3, key_dim: 2, value_dim: 4, output_shape: [2, 3] }), [[2, 4, 6], [2, 5, 5], [2, 5, 7]], 2);
  add(L.MultiHeadAttention({ num_heads: 2, key_dim: 2, use_bias: false, output_shape: 3 }), [[2, 3, 4], [2, 3, 4]], 3);
  add(L.MultiHeadAttention({ num_heads: 2, key_dim: 2, attention_axes: [2] }), [[2, 3, 4, 5], [2, 3, 2, 5]], 4);
  add(L.MultiHeadAttention({ num_heads: 2, key_dim: 2, attention_axes: [1, 2] }), [[2, 3, 4, 5], [2, 2, 3, 5]], 5);
  add(L.MultiHeadAttention({ num_heads: 2, key_dim: 2 }), [[2, 3, 4, 5], [2, 2, 3, 5]], 6);
  const qm = tf.cast(tf.tensor2d([[1, 1, 0, 1], [1, 1, 1, 0]]), 'bool');
  const vm = tf.cast(tf.tensor2d([[1, 0, 1, 1, 0], [1, 1, 0, 1, 1]]), 'bool');
  add(L.MultiHeadAttention({ num_heads: 2, key_dim: 3 }), [[2, 4, 6], [2, 5, 6]], 7, [qm, vm]);
  add(L.MultiHeadAttention({ num_heads: 2, key_dim: 3 }), [[2, 4, 6], [2, 5, 6], [2, 5, 3]], 8, [null, null, vm]);
  const outs = runs.map((r) => r.layer.apply(r.params, {}, r.inputs, { training: false, mask: r.masks }).outputs as tf.Tensor);
  const ref = numpy<NdArray[]>(`${PY_ARR}${PY_MHA}\nR = [mha(r) for r in D]`, runs.map(asJson));
  outs.forEach((y, i) => {
    const err = relError(y, ref[i]);
    assert.ok(err <= 1e-5, `run ${i} ${JSON.stringify(pick(runs[i].layer.getConfig(), ['num_heads', 'key_dim', 'value_dim', 'output_shape', 'attention_axes']))}: ${err}`);
  });
  tf.dispose([qm, vm, ...outs, ...runs.flatMap((r) => [...r.inputs, ...Object.values(r.params)])]);
});

test('gradients match central finite differences', () => {
  const q = tf.randomNormal([2, 2, 3], 0, 1, 'float32', 1);
  const v = tf.randomNormal([2, 3, 3], 0, 1, 'float32', 2);
  const k = tf.randomNormal([2, 3, 3], 0, 1, 'float32', 3);
  const layers: [Layer, tf.Tensor[]][] = [
    [L.Attention({ use_scale: true }), [q, v]],
    [L.Attention({ use_scale: true, score_mode: 'concat' }), [q, v]],
    [L.AdditiveAttention(), [q, v]],
    [L.MultiHeadAttention({ num_heads: 2, key_dim: 2 }), [q, v]],
    [L.MultiHeadAttention({ num_heads: 1, key_dim: 2, value_dim: 1, output_shape: 2 }), [q, v, k]],
    [L.AdditiveAttention({ use_scale: true }), [q, v, k]],
  ];
  for (const [layer, inputs] of layers) {
    const params = randomParams(layer, inputs.map((x) => [null, ...x.shape.slice(1)]), 7);
    checkLayerGradients(layer, params, inputs);
    tf.dispose(Object.values(params));
  }
  tf.dispose([q, v, k]);
});

const trainable: [string, () => Layer, number[][]][] = [
  ['Attention use_scale', () => L.Attention({ use_scale: true, score_mode: 'concat' }), [[8, 3, 4], [8, 5, 4]]],
  ['AdditiveAttention', () => L.AdditiveAttention({ dropout: 0.1 }), [[8, 3, 4], [8, 5, 4]]],
  ['MultiHeadAttention', () => L.MultiHeadAttention({ num_heads: 2, key_dim: 3, dropout: 0.1 }), [[8, 3, 4], [8, 5, 4]]],
];
for (const backend of ['wasm', 'cpu'] as const)
  for (const [name, make, shapes] of trainable)
    test(`${backend}: ${name} trains (loss decreases)`, () =>
      onBackend(backend, () => {
        const layer = make();
        const { params } = layer.init(3, shapes.map((s) => [null, ...s.slice(1)]));
        const inputs = shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', 10 + i));
        // Teacher and student: the target is the layer's output with other weights.
        const teacher = randomParams(layer, shapes.map((s) => [null, ...s.slice(1)]), 77);
        const target = layer.apply(teacher, {}, inputs, { training: false }).outputs as tf.Tensor;
        const [first, last] = trainToy(layer, params, inputs, target, 30, 0.2);
        assert.ok(last < first * 0.8, `${first} -> ${last}`);
        tf.dispose(Object.values(teacher));
        tf.dispose([...inputs, target, ...Object.values(params)]);
      }));
