import * as ops from '../ops/index.js';
import { Hdf5FormatError, InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { isDataset, isGroup, readArray, withH5Read, type H5Group } from '../core/hdf5.js';
import type { Model } from '../models/model.js';
import type { InputSpec } from './parse-input.js';

/** The model's input shapes (batch dimension first), or undefined for a model whose inputs are not known yet. */
function inputShapes(model: Model): (readonly (number | null)[])[] | undefined {
  try {
    return model.inputs.map((t) => t.shape as readonly (number | null)[]);
  } catch {
    return undefined;
  }
}

function inputNames(model: Model): string[] | undefined {
  try {
    return model.inputNames;
  } catch {
    return undefined;
  }
}

/** Whether the model's input layer asks for integers (an `InputLayer` with an int dtype). */
export function wantsInt(model: Model, index: number): boolean {
  const name = inputNames(model)?.[index];
  if (name === undefined) return false;
  try {
    const dtype = model.getLayer(name).config.dtype;
    return typeof dtype === 'string' && dtype.startsWith('int');
  } catch {
    return false;
  }
}

/**
 * Reads the data sets that `--input` names, one per model input and in
 * order, as tensors (the caller disposes them). Integer data sets become
 * float32 unless the input asks for integers, as Keras casts to the input's
 * dtype. The count and each shape (batch dimension aside) are checked
 * against the model's inputs: a mismatch is a ShapeMismatchError naming the
 * input and the data set.
 */
export async function readInputs(model: Model, specs: readonly InputSpec[]): Promise<ops.Tensor[]> {
  const wanted = specs.flatMap((s) => s.datasets.map((d) => ({ file: s.file, dataset: d })));
  const names = inputNames(model);
  const shapes = inputShapes(model);
  if (names && names.length !== wanted.length)
    throw new InvalidArgumentError(
      '--input',
      `${names.length} data set${names.length === 1 ? '' : 's'}, one per model input (${names.join(', ')})`,
      wanted.map((w) => w.dataset),
    );
  const tensors: ops.Tensor[] = [];
  try {
    for (const [i, w] of wanted.entries()) {
      const a = await withH5Read(w.file, (file) => {
        const root = file as H5Group;
        if (!root.get(w.dataset)) {
          const found = datasetPaths(root);
          const list = found.length > 12 ? `${found.slice(0, 12).join(', ')}, ... (${found.length} in all)` : found.join(', ');
          throw new Hdf5FormatError(w.file, `/${w.dataset.replace(/^\//, '')}`, `no such data set; the file has: ${list || 'no data sets'}`);
        }
        return readArray(file, root, w.dataset);
      });
      const where = `input '${names?.[i] ?? i}' (${w.file}:${w.dataset})`;
      const expected = shapes?.[i];
      if (a.shape.length === 0) throw new Hdf5FormatError(w.file, w.dataset, 'expected a data set with a batch dimension, found a scalar');
      if (expected && (expected.length !== a.shape.length || expected.some((d, k) => k > 0 && d !== null && d !== a.shape[k])))
        throw new ShapeMismatchError(where, expected, a.shape);
      const t = ops.tensor(a.data, a.shape, a.dtype);
      if (a.dtype === 'int32' && !wantsInt(model, i)) {
        tensors.push(ops.cast(t, 'float32'));
        t.dispose();
      } else tensors.push(t);
    }
    return tensors;
  } catch (e) {
    ops.dispose(tensors);
    throw e;
  }
}

/** Every data set path under `group`, depth first. */
function datasetPaths(group: H5Group, prefix = ''): string[] {
  const out: string[] = [];
  for (const key of group.keys()) {
    const child = group.get(key);
    if (isDataset(child)) out.push(`${prefix}${key}`);
    else if (isGroup(child)) out.push(...datasetPaths(child, `${prefix}${key}/`));
  }
  return out;
}
