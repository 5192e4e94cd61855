/**
 * A layer test in the spirit of Keras's `run_layer_test`: for a layer and an
 * input shape it checks the output shape against `computeOutputShape`, the
 * parameter count against an expected number, and a config round trip
 * (JSON text -> registry -> the same config and the same outputs with the
 * same params), a weights round trip through HDF5 (saveWeights from a model
 * around the layer, loadWeights into one around the round-tripped copy: every
 * weight and the outputs equal bit for bit), and that no tensor leaks.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { makeKey } from '../../src/core/rng.js';
import { leaves, type TensorTree } from '../../src/core/tree.js';
import { loadWeights, saveWeights } from '../../src/models/index.js';
import { Input } from '../../src/layers/input-layer.js';
import type { Layer, Shape, Shapes } from '../../src/layers/layer.js';
import { layerFromConfig } from '../../src/layers/registry.js';
import { Model } from '../../src/models/model.js';

export interface LayerTestCase {
  layer: Layer;
  /** Input shape with a null batch dimension (other nulls are filled with `fill`); a list of shapes for a layer called on a list. */
  inputShape: Shapes;
  /** Keras's `count_params()`: every weight, trainable and not. */
  expectedParams: number;
  /** Keras's trainable parameter count (default: all of expectedParams). */
  expectedTrainable?: number;
  /** The expected static output shape, when the caller knows it. */
  expectedOutputShape?: Shape;
  /** Concrete batch size (default 2) and the value for other unknown dims (default 3). */
  batch?: number;
  fill?: number;
  /** Builds the concrete input (default: standard normal, seeded). */
  input?: (shape: number[]) => tf.Tensor;
  /** Also run a training-mode call (with a key) and compare it across the round trip. */
  training?: boolean;
}

// Trees, not flat records: Bidirectional and TimeDistributed nest their inner layer's weights.
const tensors = (w: TensorTree) => leaves(w).map(([, t]) => t);
const size = (w: TensorTree) => tensors(w).reduce((n, t) => n + t.size, 0);
const shapes = (w: TensorTree) => leaves(w).map(([k, t]) => [k, t.shape]);

/** Runs the checks; returns nothing, throws an AssertionError on a failure. */
export async function runLayerTest(c: LayerTestCase): Promise<void> {
  const before = tf.memory().numTensors;
  const { layer, inputShape } = c;
  const multi = inputShape.length > 0 && Array.isArray(inputShape[0]);
  const fillShape = (s: Shape) => s.map((d, i) => (d !== null ? d : i === 0 ? (c.batch ?? 2) : (c.fill ?? 3)));
  const concretes = multi ? (inputShape as Shape[]).map(fillShape) : [fillShape(inputShape as Shape)];
  const concrete: Shapes = multi ? concretes : concretes[0];
  const { params, state, outputShape } = layer.init(makeKey(7), inputShape);
  const where = `${layer.className} on ${JSON.stringify(inputShape)}`;

  // Output shape: init, computeOutputShape and the caller agree.
  assert.deepEqual(outputShape, layer.computeOutputShape(inputShape), `${where}: init outputShape vs computeOutputShape`);
  if (c.expectedOutputShape) assert.deepEqual(outputShape, c.expectedOutputShape, `${where}: output shape`);

  // Parameter count, as Keras's count_params.
  assert.equal(size(params) + size(state), c.expectedParams, `${where}: parameter count`);
  assert.equal(size(params), c.expectedTrainable ?? c.expectedParams, `${where}: trainable parameter count`);

  const xs = concretes.map((s, i) => (c.input ? c.input(s) : tf.randomNormal(s, 0, 1, 'float32', 11 + i)));
  const x = multi ? xs : xs[0];
  const modes = c.training ? [false, true] : [false];
  const outputs = modes.map((training) => layer.apply(params, state, x, { training, key: makeKey(3) }));
  for (const { outputs: y } of outputs) {
    const shape = (y as tf.Tensor).shape;
    // A null in a computed shape is unknown (InputLayer keeps its batch null); every known dim must match.
    for (const s of [concrete, inputShape] as Shapes[]) {
      const expected = layer.computeOutputShape(s) as Shape;
      const masked = (expected as (number | null)[]).map((d, i) => (d === null ? shape[i] : d));
      assert.deepEqual(shape, masked, `${where}: actual output shape ${JSON.stringify(shape)} vs computeOutputShape(${JSON.stringify(s)}) = ${JSON.stringify(expected)}`);
    }
  }

  // Config round trip through JSON text and the registry.
  const config = layer.getConfig();
  const json = JSON.stringify(config);
  assert.deepEqual(JSON.parse(json), config, `${where}: getConfig() is plain JSON`);
  const copy = layerFromConfig({ class_name: layer.className, config: JSON.parse(json) });
  assert.equal(copy.className, layer.className);
  assert.deepEqual(copy.getConfig(), config, `${where}: config round trip`);
  assert.deepEqual(copy.computeOutputShape(inputShape), outputShape, `${where}: output shape after the round trip`);
  const rebuilt = copy.init(makeKey(7), inputShape);
  assert.deepEqual(shapes(rebuilt.params), shapes(params), `${where}: param shapes after the round trip`);
  assert.deepEqual(shapes(rebuilt.state), shapes(state), `${where}: state shapes after the round trip`);
  tf.dispose([...tensors(rebuilt.params), ...tensors(rebuilt.state)]);
  const again = modes.map((training) => copy.apply(params, state, x, { training, key: makeKey(3) }));
  for (let i = 0; i < modes.length; i++) {
    const a = await (outputs[i].outputs as tf.Tensor).data();
    const b = await (again[i].outputs as tf.Tensor).data();
    assert.deepEqual(b, a, `${where}: outputs after the round trip (training=${modes[i]})`);
  }

  if (layer.className !== 'InputLayer') await hdf5RoundTrip(layer, copy, inputShape, multi ? xs : xs[0], where);

  // Ownership: dispose what we made; nothing else may remain.
  const keep = new Set<tf.Tensor>([...xs, ...tensors(params), ...tensors(state)]);
  for (const r of [...outputs, ...again]) {
    for (const t of [...outList(r.outputs), ...tensors(r.state)]) if (!keep.has(t)) keep.add(t);
  }
  tf.dispose([...keep]);
  assert.equal(tf.memory().numTensors, before, `${where}: tensors leaked`);
}

const outList = (y: tf.Tensor | tf.Tensor[]) => (Array.isArray(y) ? y : [y]);

/** A functional model: Input(s) -> layer (all its outputs). */
function modelAround(layer: Layer, inputShape: Shapes): Model {
  const multi = inputShape.length > 0 && Array.isArray(inputShape[0]);
  const inputs = (multi ? (inputShape as Shape[]) : [inputShape as Shape]).map((s) => Input({ batch_input_shape: s }));
  const outputs = layer.callAll(multi ? inputs : inputs[0]);
  return new Model({ inputs: multi ? inputs : inputs[0], outputs: outputs.length === 1 ? outputs[0] : outputs });
}

/**
 * saveWeights of a model around `layer` (with seeded random weights, so that
 * no initializer's zeros or ones hide a lost weight), loadWeights into a
 * differently seeded model around `copy`: every weight bit for bit, then the
 * inference outputs.
 */
async function hdf5RoundTrip(layer: Layer, copy: Layer, inputShape: Shapes, x: tf.Tensor | tf.Tensor[], where: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-layer-test-'));
  const a = modelAround(layer, inputShape).build(1);
  const b = modelAround(copy, inputShape).build(2);
  try {
    const random = a.getWeights().map((w, i) => {
      const r = tf.randomUniform(w.shape, w.dtype === 'int32' ? 0 : 0.5, w.dtype === 'int32' ? 10 : 1.5, w.dtype === 'int32' ? 'int32' : 'float32', 100 + i);
      w.dispose();
      return r;
    });
    a.setWeights(random);
    tf.dispose(random);
    const file = path.join(dir, 'weights.h5');
    await saveWeights(a, file);
    await loadWeights(b, file);
    const wa = a.getWeights();
    const wb = b.getWeights();
    assert.equal(wb.length, wa.length, `${where}: weight count after the HDF5 round trip`);
    for (let i = 0; i < wa.length; i++) {
      assert.equal(wb[i].dtype, wa[i].dtype, `${where}: weight ${i} dtype after the HDF5 round trip`);
      assert.deepEqual(wb[i].shape, wa[i].shape, `${where}: weight ${i} shape after the HDF5 round trip`);
      assert.deepEqual(wb[i].dataSync(), wa[i].dataSync(), `${where}: weight ${i} after the HDF5 round trip`);
    }
    tf.dispose([...wa, ...wb]);
    // In a tidy: a model's apply leaves the masks it computed (Embedding mask_zero, Masking) to the caller's tidy.
    const run = (m: Model) => tf.tidy(() => outList(m.apply(m.variables!.params, m.variables!.state, x, { training: false }).outputs).map((y) => y.dataSync()));
    const [ya, yb] = [run(a), run(b)];
    for (let i = 0; i < ya.length; i++) assert.deepEqual(yb[i], ya[i], `${where}: output ${i} after the HDF5 round trip`);
  } finally {
    a.dispose();
    b.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
