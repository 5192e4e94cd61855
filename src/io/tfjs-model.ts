import fs from 'node:fs';
import path from 'node:path';
import * as ops from '../ops/index.js';
import { RxKerasError, ShapeMismatchError } from '../core/errors.js';
import { mapTree, sameShape } from '../core/tree.js';
import type { Layer } from '../layers/layer.js';
import type { Variables } from '../training/types.js';
import { KERAS_BACKEND, KERAS_VERSION } from './model-to-config.js';
import { atomicWrite, modelSlots, type WeightSlot } from './weights.js';

/** A TF.js model.json or weight shard that is missing, short or malformed; `file` names it. */
export class TfjsFormatError extends RxKerasError {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

type Quantization = { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number; original_dtype?: string };

/** One entry of a TF.js weights manifest. */
export interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  quantization?: Quantization;
}

/** The TF.js layers-model format (`model.json`): a Keras topology and sharded binary weights. */
export interface LayersModelJSON {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: ManifestWeight[] }[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** TF.js's shard size: 4 MB (`weightDataToShards`). */
const SHARD_BYTES = 4 * 1024 * 1024;

/**
 * The model.json of a TF.js layers model (`tf.loadLayersModel`'s format),
 * checked to have a Keras topology and a weights manifest, with the
 * topology's Keras `{ class_name, config }`.
 */
export function readLayersModelJSON(file: string): { json: LayersModelJSON; topology: object } {
  const json = readModelJSON(file);
  return { json, topology: (json.modelTopology.model_config ?? json.modelTopology) as object };
}

/**
 * The weights of a TF.js layers model for `module`'s layers: every shard is
 * read and decoded (float32, int32, and the quantized uint8 / uint16 /
 * float16 forms), matched to the layers' weights by name (`dense/kernel`) and
 * checked; returns new variables (the old ones are not touched). Nothing
 * leaks on failure.
 */
export function readLayersModelWeights(file: string, json: LayersModelJSON, module: { readonly layers: readonly Layer[] }, variables: Variables): Variables {
  const values = readWeights(file, json);
  const assigned = new Map<ops.Tensor, ops.Tensor>();
  try {
    for (const { slots } of modelSlots(module, variables))
      for (const s of slots) {
        const name = s.name.replace(/:0$/, '');
        const w = values.get(name);
        if (!w) throw new TfjsFormatError(file, `the weights manifest has no weight '${name}' (it lists ${[...values.keys()].slice(0, 8).join(', ')}, ...)`);
        if (!sameShape(w.shape, s.tensor.shape)) throw new ShapeMismatchError(`${file}: weight '${name}'`, s.tensor.shape, w.shape);
        assigned.set(s.tensor, w);
      }
  } catch (e) {
    for (const [, t] of values) t.dispose();
    throw e;
  }
  const used = new Set(assigned.values());
  for (const [, t] of values) if (!used.has(t)) t.dispose();
  const swap = (t: ops.Tensor) => assigned.get(t) ?? t;
  return { params: mapTree(variables.params, swap), state: mapTree(variables.state, swap) };
}

function readModelJSON(file: string): LayersModelJSON {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TfjsFormatError(file, `cannot read the model.json: ${(e as Error).message}`);
  }
  let json: LayersModelJSON;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TfjsFormatError(file, `expected JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || typeof json.modelTopology !== 'object' || json.modelTopology === null)
    throw new TfjsFormatError(file, 'expected a TF.js layers model with a modelTopology (a graph model has none)');
  if (!Array.isArray(json.weightsManifest)) throw new TfjsFormatError(file, 'expected a weightsManifest array');
  return json;
}

/** Reads every group's shards (concatenated in order) and decodes its weights into tensors, by name. */
function readWeights(file: string, json: LayersModelJSON): Map<string, ops.Tensor> {
  const dir = path.dirname(file);
  const out = new Map<string, ops.Tensor>();
  try {
    for (const group of json.weightsManifest) {
      const buffers = group.paths.map((p) => {
        const shard = path.join(dir, p);
        if (!fs.existsSync(shard)) throw new TfjsFormatError(shard, `missing weight shard (listed in ${file})`);
        return fs.readFileSync(shard);
      });
      const data = Buffer.concat(buffers);
      let offset = 0;
      for (const w of group.weights) {
        const size = w.shape.reduce((a, b) => a * b, 1);
        const stored = w.quantization?.dtype ?? w.dtype;
        const bytes = size * (BYTES[stored] ?? NaN);
        if (Number.isNaN(bytes)) throw new TfjsFormatError(file, `weight '${w.name}': unsupported dtype '${stored}'`);
        if (offset + bytes > data.length)
          throw new TfjsFormatError(path.join(dir, group.paths[group.paths.length - 1]), `weight shard too short: '${w.name}' needs bytes ${offset}..${offset + bytes}, the group's shards hold ${data.length}`);
        const view = data.subarray(offset, offset + bytes);
        out.set(w.name, ops.tensor(decodeValues(view, w, stored, size), w.shape, w.dtype === 'int32' ? 'int32' : w.dtype === 'bool' ? 'bool' : 'float32'));
        offset += bytes;
      }
    }
  } catch (e) {
    for (const [, t] of out) t.dispose();
    throw e;
  }
  return out;
}

function decodeValues(view: Buffer, w: ManifestWeight, stored: string, size: number): Float32Array | Int32Array | Uint8Array {
  const copy = new Uint8Array(view).buffer;
  if (stored === 'float32') return new Float32Array(copy);
  if (stored === 'int32') return new Int32Array(copy);
  if (stored === 'bool') return new Uint8Array(copy);
  const q = w.quantization!;
  if (stored === 'float16') return Float32Array.from(new Uint16Array(copy), halfToFloat);
  // uint8 / uint16: value = q * scale + min (tfjs-core's io.decodeWeights).
  const ints = stored === 'uint8' ? new Uint8Array(copy) : new Uint16Array(copy);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = ints[i] * (q.scale as number) + (q.min as number);
  return w.dtype === 'int32' ? Int32Array.from(out, Math.round) : out;
}

/** IEEE 754 half to single precision. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * Writes a model in the TF.js layers format into `dir`: `model.json`
 * (format 'layers-model', the Keras topology `config`, one weights group) and
 * float32 shards of at most 4 MB (`group1-shard1ofN.bin`), as tfjs-layers's
 * `save` does. Each file is written atomically, the model.json last.
 */
export async function writeLayersModel(dir: string, config: { class_name: string; config: object }, layers: { slots: WeightSlot[] }[]): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const weights: ManifestWeight[] = [];
  const chunks: Uint8Array[] = [];
  for (const { slots } of layers)
    for (const s of slots) {
      const dtype = s.tensor.dtype === 'int32' ? 'int32' : 'float32';
      weights.push({ name: s.name.replace(/:0$/, ''), shape: s.tensor.shape, dtype });
      const values = s.tensor.dataSync();
      const typed = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
      chunks.push(new Uint8Array(typed.buffer));
    }
  const data = Buffer.concat(chunks);
  const count = Math.max(1, Math.ceil(data.length / SHARD_BYTES));
  const paths = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
  for (let i = 0; i < count; i++)
    await atomicWrite(path.join(dir, paths[i]), (tmp) => fs.promises.writeFile(tmp, data.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES)));
  const json: LayersModelJSON = {
    format: 'layers-model',
    generatedBy: `keras v${KERAS_VERSION}`,
    convertedBy: 'rxkeras',
    modelTopology: { keras_version: KERAS_VERSION, backend: KERAS_BACKEND, model_config: config },
    weightsManifest: [{ paths, weights }],
  };
  await atomicWrite(path.join(dir, 'model.json'), (tmp) => fs.promises.writeFile(tmp, JSON.stringify(json)));
}
