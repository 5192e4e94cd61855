import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ops from '../ops/index.js';
import { makeKey } from '../core/rng.js';
import { leaves, type TensorTree } from '../core/tree.js';
import { Input } from '../layers/input-layer.js';
import type { Layer, Shape, Shapes } from '../layers/layer.js';
import { layerFromConfig } from '../layers/registry.js';
import { Model } from '../models/model.js';
import { expectNoLeaks } from './leak-check.js';

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
  input?: (shape: number[]) => ops.Tensor;
  /** Also run a training-mode call (with a key) and compare it across the round trip. */
  training?: boolean;
}

// Trees, not flat records: Bidirectional and TimeDistributed nest their inner layer's weights.
const tensors = (w: TensorTree) => leaves(w).map(([, t]) => t);
const size = (w: TensorTree) => tensors(w).reduce((n, t) => n + t.size, 0);
const shapes = (w: TensorTree) => leaves(w).map(([k, t]) => [k, t.shape]);
const outList = (y: ops.Tensor | ops.Tensor[]) => (Array.isArray(y) ? y : [y]);

/**
 * Keras's `run_layer_test` for any layer, built in or your own (register it
 * with `registerLayer` so that its config can be read back): the output
 * shape against `computeOutputShape` (and `expectedOutputShape`), the
 * parameter count against Keras's `count_params`, a config round trip (JSON
 * text -> registry -> the same config, shapes and outputs), a weights round
 * trip through HDF5 (saveWeights / loadWeights of models around the layer
 * and its copy: every weight and the outputs bit for bit), and no tensor
 * leaked. Throws an AssertionError (or TensorLeakError) naming the check.
 */
export async function runLayerTest(c: LayerTestCase): Promise<void> {
  const { layer, inputShape } = c;
  const where = `${layer.className} on ${JSON.stringify(inputShape)}`;
  await expectNoLeaks(async () => {
    const multi = inputShape.length > 0 && Array.isArray(inputShape[0]);
    const fillShape = (s: Shape) => s.map((d, i) => (d !== null ? d : i === 0 ? (c.batch ?? 2) : (c.fill ?? 3)));
    const concretes = multi ? (inputShape as Shape[]).map(fillShape) : [fillShape(inputShape as Shape)];
    const concrete: Shapes = multi ? concretes : concretes[0];
    const { params, state, outputShape } = layer.init(makeKey(7), inputShape);
    const owned = new Set<ops.Tensor>([...tensors(params), ...tensors(state)]);
    try {
      // Output shape: init, computeOutputShape and the caller agree.
      assert.deepEqual(outputShape, layer.computeOutputShape(inputShape), `${where}: init outputShape vs computeOutputShape`);
      if (c.expectedOutputShape) assert.deepEqual(outputShape, c.expectedOutputShape, `${where}: output shape`);

      // Parameter count, as Keras's count_params.
      assert.equal(size(params) + size(state), c.expectedParams, `${where}: parameter count`);
      assert.equal(size(params), c.expectedTrainable ?? c.expectedParams, `${where}: trainable parameter count`);

      const xs = concretes.map((s, i) => (c.input ? c.input(s) : ops.randomNormal(s, 0, 1, 'float32', 11 + i)));
      xs.forEach((t) => owned.add(t));
      const x = multi ? xs : xs[0];
      const modes = c.training ? [false, true] : [false];
      const call = (l: Layer, training: boolean) => {
        const r = l.apply(params, state, x, { training, key: makeKey(3) });
        [...outList(r.outputs), ...tensors(r.state)].forEach((t) => owned.add(t));
        return r.outputs as ops.Tensor;
      };
      const outputs = modes.map((training) => call(layer, training));
      for (const y of outputs) {
        // A null in a computed shape is unknown (InputLayer keeps its batch null); every known dim must match.
        for (const s of [concrete, inputShape] as Shapes[]) {
          const expected = layer.computeOutputShape(s) as Shape;
          const masked = expected.map((d, i) => (d === null ? y.shape[i] : d));
          assert.deepEqual(y.shape, masked, `${where}: actual output shape ${JSON.stringify(y.shape)} vs computeOutputShape(${JSON.stringify(s)}) = ${JSON.stringify(expected)}`);
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
      try {
        assert.deepEqual(shapes(rebuilt.params), shapes(params), `${where}: param shapes after the round trip`);
        assert.deepEqual(shapes(rebuilt.state), shapes(state), `${where}: state shapes after the round trip`);
      } finally {
        ops.dispose([...tensors(rebuilt.params), ...tensors(rebuilt.state)]);
      }
      const again = modes.map((training) => call(copy, training));
      for (let i = 0; i < modes.length; i++)
        assert.deepEqual(await again[i].data(), await outputs[i].data(), `${where}: outputs after the round trip (training=${modes[i]})`);

      if (layer.className !== 'InputLayer') await hdf5RoundTrip(layer, copy, inputShape, x, where);
    } finally {
      ops.dispose([...owned]);
    }
  }, `${where}: runLayerTest`);
}

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
async function hdf5RoundTrip(layer: Layer, copy: Layer, inputShape: Shapes, x: ops.Tensor | ops.Tensor[], where: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxkeras-layer-test-'));
  const a = modelAround(layer, inputShape).build(1);
  const b = modelAround(copy, inputShape).build(2);
  try {
    const random = a.getWeights().map((w, i) => {
      const int = w.dtype === 'int32';
      const r = ops.randomUniform(w.shape, int ? 0 : 0.5, int ? 10 : 1.5, int ? 'int32' : 'float32', 100 + i);
      w.dispose();
      return r;
    });
    a.setWeights(random);
    ops.dispose(random);
    const file = path.join(dir, 'weights.h5');
    await a.saveWeights(file);
    await b.loadWeights(file);
    const wa = a.getWeights();
    const wb = b.getWeights();
    try {
      assert.equal(wb.length, wa.length, `${where}: weight count after the HDF5 round trip`);
      for (let i = 0; i < wa.length; i++) {
        assert.equal(wb[i].dtype, wa[i].dtype, `${where}: weight ${i} dtype after the HDF5 round trip`);
        assert.deepEqual(wb[i].shape, wa[i].shape, `${where}: weight ${i} shape after the HDF5 round trip`);
        assert.deepEqual(wb[i].dataSync(), wa[i].dataSync(), `${where}: weight ${i} after the HDF5 round trip`);
      }
    } finally {
      ops.dispose([...wa, ...wb]);
    }
    // In a tidy: a model's apply leaves the masks it computed (Embedding mask_zero, Masking) to the caller's tidy.
    const run = (m: Model) => ops.tidy(() => outList(m.apply(m.variables!.params, m.variables!.state, x, { training: false }).outputs).map((y) => y.dataSync()));
    const [ya, yb] = [run(a), run(b)];
    for (let i = 0; i < ya.length; i++) assert.deepEqual(yb[i], ya[i], `${where}: output ${i} after the HDF5 round trip`);
  } finally {
    a.dispose();
    b.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
