import * as ops from '../ops/index.js';
import { Hdf5FormatError, InvalidArgumentError, ShapeMismatchError } from '../core/errors.js';
import { isDataset, withH5Read, type H5Group } from '../core/hdf5.js';
import type { Model } from '../models/model.js';
import { fromHdf5, map, zip, type Dataset, type Example } from '../../streams/index.js';
import { wantsInt } from './input-spec.js';
import type { InputSpec } from './parse-input.js';

/** A data set of the command line (`FILE.h5:DATASET`) with the model's tensor it feeds. */
interface Column {
  file: string;
  dataset: string;
  role: 'x' | 'y';
  /** The model's input or output name, and its shape (batch dimension first). */
  name: string;
  shape: readonly (number | null)[];
}

/**
 * The examples of `--x` and `--y` (one HDF5 data set per model input and
 * per output, in order), read from disk a slice at a time (rxkeras/streams
 * `fromHdf5`), unbatched and indexable (split, shuffled, batched later).
 * Counts, shapes and row counts are checked first, from the files' metadata;
 * integer inputs become float32 unless the input asks for integers, and
 * targets become float32 (Keras casts them; sparse losses cast them back).
 */
export async function hdf5Examples(model: Model, x: readonly InputSpec[], y: readonly InputSpec[]): Promise<Dataset<Example>> {
  const columns = [...plan(x, 'x', model.inputNames, model.inputs.map((t) => t.shape)), ...plan(y, 'y', model.outputNames, model.outputs.map((t) => t.shape))];
  let rows: { count: number; where: string } | undefined;
  for (const c of columns) {
    const shape = await withH5Read(c.file, (file) => {
      const d = (file as H5Group).get(c.dataset);
      if (!isDataset(d)) throw new Hdf5FormatError(c.file, `/${c.dataset.replace(/^\//, '')}`, 'no such data set');
      return d.shape ?? [];
    });
    const where = `${c.role === 'x' ? 'input' : 'output'} '${c.name}' (${c.file}:${c.dataset})`;
    if (shape.length === 0) throw new Hdf5FormatError(c.file, c.dataset, 'expected a data set with a batch dimension, found a scalar');
    // Targets may drop a trailing 1 (sparse labels of shape [n] for an output of shape [n, 1] or [n, classes]).
    const ok = shape.length === c.shape.length ? c.shape.every((d, k) => k === 0 || d === null || d === shape[k]) : c.role === 'y' && shape.length === c.shape.length - 1;
    if (!ok) throw new ShapeMismatchError(where, c.shape, shape);
    if (rows && rows.count !== shape[0]) throw new ShapeMismatchError(`${where}: rows`, `${rows.count} rows, as ${rows.where}`, shape);
    rows ??= { count: shape[0], where };
  }
  const sources = await Promise.all(columns.map((c) => fromHdf5(c.file, { x: c.dataset })));
  const castInput = columns.filter((c) => c.role === 'x').map((_, i) => !wantsInt(model, i));
  const nx = x.reduce((n, s) => n + s.datasets.length, 0);
  return zip(...sources).pipe(
    map((parts: Example[]): Example => {
      const tensors = parts.map((p) => p.x as ops.Tensor);
      const xs = tensors.slice(0, nx).map((t, i) => (castInput[i] ? toFloat(t) : t));
      const ys = tensors.slice(nx).map(toFloat);
      return { x: xs.length === 1 ? xs[0] : xs, y: ys.length === 1 ? ys[0] : ys };
    }),
  );
}

function plan(specs: readonly InputSpec[], role: 'x' | 'y', names: string[], shapes: readonly (readonly (number | null)[])[]): Column[] {
  const wanted = specs.flatMap((s) => s.datasets.map((dataset) => ({ file: s.file, dataset })));
  if (wanted.length !== names.length)
    throw new InvalidArgumentError(`--${role}`, `${names.length} data set${names.length === 1 ? '' : 's'}, one per model ${role === 'x' ? 'input' : 'output'} (${names.join(', ')})`, wanted.map((w) => w.dataset));
  return wanted.map((w, i) => ({ ...w, role, name: names[i], shape: shapes[i] }));
}

/** The tensor as float32 (`map` disposes the input tensors its output does not keep). */
const toFloat = (t: ops.Tensor): ops.Tensor => (t.dtype === 'float32' ? t : ops.cast(t, 'float32'));
