import fs from 'node:fs';
import * as ops from '../ops/index.js';
import { Hdf5FormatError, InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { leaves, mapTree, sameShape, type TensorTree } from '../core/tree.js';
import { isContainer, weightState, type Layer } from '../layers/index.js';
import type { Variables } from '../training/types.js';
import {
  getGroup,
  readArray,
  readStringAttr,
  readStringListAttr,
  writeArray,
  writeStringListAttr,
  withH5Read,
  withH5Write,
  type H5Array,
  type H5File,
  type H5Group,
} from '../core/hdf5.js';
import { KERAS_BACKEND, KERAS_VERSION } from './model-to-config.js';
import { preprocessWeights, type LayerWeightsSpec, type WeightsOrigin } from './preprocess-weights.js';

/** One weight of a layer, where it lives in the model's variables and its Keras name. */
export interface WeightSlot {
  /** 'params' (trainable) or 'state' (non-trainable: moving averages). */
  kind: 'params' | 'state';
  /** Path in `variables.params` / `variables.state` ('dense/kernel', 'inner_model/dense/kernel'). */
  path: string;
  /** Keras's variable name ('dense/kernel:0'; inside a nested model, the inner layer's own name). */
  name: string;
  tensor: ops.Tensor;
}

export interface LoadWeightsOptions {
  /** Match layers by name (Keras `by_name=True`) instead of by topological order. */
  byName?: boolean;
  /** Skip layers whose weight count or shapes differ instead of failing (with a warning). */
  skipMismatch?: boolean;
  /** Where warnings go (skipped layers); console.warn by default. */
  onWarning?: (message: string) => void;
}

/**
 * A layer's weights in Keras's order (trainable, then non-trainable), with
 * the names Keras gives them: `<layer>/<weight>:0`; for a nested model, the
 * names of its own layers' weights.
 */
export function layerSlots(layer: Layer, v: Variables): WeightSlot[] {
  const p = (v.params[layer.name] ?? {}) as TensorTree;
  const s = weightState(layer, (v.state[layer.name] ?? {}) as TensorTree);
  const slot = (kind: 'params' | 'state') => ([path, tensor]: [string, ops.Tensor]): WeightSlot => ({
    kind,
    path: `${layer.name}/${path}`,
    name: kerasWeightName(layer, path),
    tensor,
  });
  return [...leaves(p).map(slot('params')), ...leaves(s).map(slot('state'))];
}

function kerasWeightName(layer: Layer, path: string): string {
  if (isContainer(layer)) {
    const cut = path.indexOf('/');
    if (cut > 0) {
      const inner = layer.layers.find((l) => l.name === path.slice(0, cut));
      if (inner) return kerasWeightName(inner, path.slice(cut + 1));
    }
  }
  return `${layer.name}/${path}:0`;
}

/** A model's layers (Keras's order) and their weight slots in `variables`. */
export function modelSlots(module: { readonly layers: readonly Layer[] }, variables: Variables): { layer: Layer; slots: WeightSlot[] }[] {
  return module.layers.map((layer) => ({ layer, slots: layerSlots(layer, variables) }));
}

// ---- writing -------------------------------------------------------------

/** Writes a model's weights (its layers and their slots) into `group` in Keras 2's layout (`save_weights_to_hdf5_group`). */
export function writeWeightsGroup(group: H5Group, layers: { layer: { name: string }; slots: WeightSlot[] }[]): void {
  group.create_attribute('backend', KERAS_BACKEND);
  group.create_attribute('keras_version', KERAS_VERSION);
  writeStringListAttr(
    group,
    'layer_names',
    layers.map((l) => l.layer.name),
  );
  for (const { layer, slots } of layers) {
    const g = group.create_group(layer.name);
    writeStringListAttr(
      g,
      'weight_names',
      slots.map((s) => s.name),
    );
    for (const s of slots) writeTensor(g, s.name, s.tensor);
  }
}

/** Writes a tensor as a data set at `path` (float32, or int32 for integer tensors). */
export function writeTensor(group: H5Group, path: string, t: ops.Tensor, int64 = false): void {
  const data = t.dataSync();
  if (t.dtype === 'float32') writeArray(group, path, t.shape, data as Float32Array);
  else if (int64) writeArray(group, path, t.shape, BigInt64Array.from(Array.from(data as Int32Array, (x) => BigInt(x))));
  else writeArray(group, path, t.shape, Int32Array.from(data as ArrayLike<number>));
}

/**
 * Keras `model.save_weights(path)` in HDF5, from values: root attributes
 * `layer_names`, `backend`, `keras_version`; one group per layer with
 * `weight_names` and `<layer>/<weight>:0` data sets. The file is written
 * atomically.
 */
export async function writeWeightsFile(path: string, layers: { layer: { name: string }; slots: WeightSlot[] }[]): Promise<void> {
  await atomicWrite(path, (tmp) => withH5Write(tmp, (file) => writeWeightsGroup(file, layers)));
}

/** Writes to `path.tmp-<pid>`, then renames over `path`; on failure the old file is left as it was. */
export async function atomicWrite(path: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await write(tmp);
    fs.renameSync(tmp, path);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing to clean
    }
    throw e;
  }
}

// ---- reading -------------------------------------------------------------

/** A weights group of a file: layer names in file order, each with its weight names, and who wrote it. */
export interface FileWeights {
  file: H5File;
  group: H5Group;
  layerNames: string[];
  weightNames: Map<string, string[]>;
  origin: WeightsOrigin;
}

export function readWeightsIndex(file: H5File, group: H5Group): FileWeights {
  const layerNames = readStringListAttr(file, group, 'layer_names');
  if (!layerNames) throw new Hdf5FormatError(file.filename, `${group.path}@layer_names`, 'missing attribute: not a Keras weights group');
  const weightNames = new Map<string, string[]>();
  for (const name of layerNames) {
    const g = getGroup(file, group, name);
    weightNames.set(name, readStringListAttr(file, g, 'weight_names') ?? []);
  }
  // As Keras's loaders: the group's own attributes; a group without `keras_version` was written by Keras 1.
  const origin = { kerasVersion: readStringAttr(file, group, 'keras_version') ?? '1', backend: readStringAttr(file, group, 'backend') };
  return { file, group, layerNames, weightNames, origin };
}

/** The shapes of a file layer's weights, in its `weight_names` order, without reading their values. */
export function fileWeightShapes(fw: FileWeights, layerName: string): number[][] | undefined {
  const names = fw.weightNames.get(layerName);
  if (!names) return undefined;
  const g = getGroup(fw.file, fw.group, layerName);
  return names.map((w) => {
    const d = g.get(w) as { shape?: number[] } | null;
    return d && Array.isArray(d.shape) ? [...d.shape] : [];
  });
}

/** A file layer's arrays, converted for `layer` as Keras's `preprocess_weights_for_loading` converts them. */
function readLayerArrays(fw: FileWeights, layerName: string, layer: Layer, slots: WeightSlot[]): H5Array[] {
  const g = getGroup(fw.file, fw.group, layerName);
  const arrays = (fw.weightNames.get(layerName) ?? []).map((w) => readArray(fw.file, g, w));
  return preprocessWeights(weightsSpec(layer, slots, layer.name), arrays, fw.origin);
}

/** A layer's class, config and weight shapes; for a nested model, each inner layer's too. */
function weightsSpec(layer: Layer, slots: WeightSlot[], base: string): LayerWeightsSpec {
  const spec: LayerWeightsSpec = { className: layer.className, config: layer.getConfig() as Record<string, unknown>, shapes: slots.map((s) => s.tensor.shape) };
  if (!isContainer(layer)) return spec;
  spec.sublayers = layer.layers.map((sub) => {
    const prefix = `${base}/${sub.name}`;
    const own = (kind: WeightSlot['kind']) => slots.filter((s) => s.kind === kind && s.path.startsWith(`${prefix}/`));
    const [trainable, nonTrainable] = [own('params'), own('state')];
    return { spec: weightsSpec(sub, [...trainable, ...nonTrainable], prefix), trainable: trainable.length, nonTrainable: nonTrainable.length };
  });
  return spec;
}

/**
 * Matches the file's layers to the model's (Keras's topological or by-name
 * rules), reads and checks every value, and returns new variables in place
 * of `v`; nothing given is touched. Throws ShapeMismatchError naming the
 * layer, the weight and both shapes.
 */
export function planWeights(module: { readonly layers: readonly Layer[] }, v: Variables, fw: FileWeights, options: LoadWeightsOptions = {}): Variables {
  const warn = options.onWarning ?? ((m: string) => console.warn(m));
  const where = `${fw.file.filename}`;
  const assignments = new Map<ops.Tensor, H5Array>();
  const modelLayers = modelSlots(module, v);

  const assign = (layer: Layer, fileLayer: string, slots: WeightSlot[], arrays: H5Array[]): boolean => {
    if (slots.length !== arrays.length) {
      const what = `layer '${layer.name}' (file layer '${fileLayer}') expects ${slots.length} weights (${slots.map((s) => s.name).join(', ')}), the file has ${arrays.length}`;
      if (options.skipMismatch) {
        warn(`${where}: skipping ${what}`);
        return false;
      }
      throw new ShapeMismatchError(`loading ${where}: ${what}`, `${slots.length} weights`, `${arrays.length} weights`);
    }
    const names = fw.weightNames.get(fileLayer) ?? [];
    const bad = slots.findIndex((s, i) => !sameShape(s.tensor.shape, arrays[i].shape));
    if (bad >= 0) {
      const s = slots[bad];
      const what = `layer '${layer.name}', weight '${s.name}' (file: '${fileLayer}/${names[bad]}')`;
      if (options.skipMismatch) {
        warn(`${where}: skipping ${what}: expected shape [${s.tensor.shape}], the file has [${arrays[bad].shape}]`);
        return false;
      }
      throw new ShapeMismatchError(`loading ${where}: ${what}`, s.tensor.shape, arrays[bad].shape);
    }
    slots.forEach((s, i) => assignments.set(s.tensor, arrays[i]));
    return true;
  };

  if (options.byName) {
    const byName = new Map(modelLayers.map((l) => [l.layer.name, l]));
    for (const name of fw.layerNames) {
      const target = byName.get(name);
      if (!target) continue;
      const arrays = readLayerArrays(fw, name, target.layer, target.slots);
      if (target.slots.length === 0 && arrays.length === 0) continue;
      assign(target.layer, name, target.slots, arrays);
    }
  } else {
    const withWeights = modelLayers.filter((l) => l.slots.length > 0);
    const fileLayers = fw.layerNames.filter((n) => (fw.weightNames.get(n) ?? []).length > 0);
    if (withWeights.length !== fileLayers.length)
      throw new ShapeMismatchError(
        `loading ${where}: the file has weights for ${fileLayers.length} layers (${fileLayers.join(', ')}), the model has ${withWeights.length} layers with weights (${withWeights.map((l) => l.layer.name).join(', ')}); pass { byName: true } to match by name`,
        `${withWeights.length} layers`,
        `${fileLayers.length} layers`,
      );
    withWeights.forEach((l, i) => assign(l.layer, fileLayers[i], l.slots, readLayerArrays(fw, fileLayers[i], l.layer, l.slots)));
  }

  const replace = (tree: TensorTree): TensorTree =>
    mapTree(tree, (t) => {
      const a = assignments.get(t);
      if (!a) return t;
      return ops.tensor(a.data, a.shape, t.dtype === 'int32' ? 'int32' : 'float32') as ops.Tensor;
    });
  try {
    return { params: replace(v.params), state: replace(v.state) };
  } catch (e) {
    throw new InvalidArgumentError('weights', 'values that make tensors', String(e));
  }
}

/**
 * Keras `model.load_weights(path, by_name, skip_mismatch)` for HDF5 weight
 * files (a `save_weights` file, or a whole-model file's `model_weights`),
 * as values: the new variables in place of `variables`. Everything is read
 * and checked first; nothing given is touched.
 */
export function readWeightsFile(path: string, module: { readonly layers: readonly Layer[] }, variables: Variables, options: LoadWeightsOptions = {}): Promise<Variables> {
  return withH5Read(path, (file) => {
    const root = file as H5Group;
    const group = 'layer_names' in root.attrs ? root : getGroup(file, root, 'model_weights');
    return planWeights(module, variables, readWeightsIndex(file, group), options);
  });
}

