import { ConfigDecodeError, RxKerasError, describe } from '../core/errors.js';
import { layerFromConfig } from '../layers/registry.js';
import type { Layer, Shape, SymbolicTensor } from '../layers/layer.js';
import { inputNode } from '../layers/symbolic.js';
import { DEVICES_KEY, onDevice } from '../layers/device-scope.js';
import { layerConfigRules, parseKerasYAML } from '../io/index.js';
import { Model } from './model.js';
import { Sequential } from './sequential.js';

/** A serialised model (or layer): Keras's `{ class_name, config }`. */
export interface SerializedModel {
  class_name: string;
  config: unknown;
  keras_version?: string;
  backend?: string;
}

export interface FromConfigOptions {
  /** Where the config came from, for error messages (a file name). */
  where?: string;
  /** The writer's `keras_version` when it is not in the config itself (an HDF5 file's root attribute). */
  kerasVersion?: string;
  /** The shapes of a layer's weights in the file the config came with, by layer name (to decide version-dependent defaults). */
  weightShapes?: (layerName: string) => number[][] | undefined;
}

/** What the builders know of the file: its Keras version and weight shapes. */
type FileContext = Pick<FromConfigOptions, 'kerasVersion' | 'weightShapes'>;

const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/**
 * Builds a model from Keras's `{ class_name, config }`: `Sequential` (Keras 2
 * `{ name, layers }`, or the bare list of layers Keras 1.2 and 2.0/2.1 write)
 * and functional `Model` / `Functional` configs with `inbound_nodes` (several
 * inputs and outputs, shared layers, nested models). Layers come from the
 * layer registry (`registerLayer` adds custom ones). Every decoding failure is
 * a ConfigDecodeError (or UnknownLayerError) naming the path of the bad field.
 */
export function modelFromConfig(serialized: unknown, options: FromConfigOptions = {}): Model {
  const where = options.where ?? 'model config';
  // A bare list of layers: the oldest Sequential form.
  if (Array.isArray(serialized)) return sequentialFromConfig(serialized, '', where, undefined, options);
  const s = expectObject(serialized, '(root)', where);
  const className = expectString(s.class_name, 'class_name', where);
  if (!MODEL_CLASSES.has(className))
    throw new ConfigDecodeError('class_name', `a model class ('Sequential', 'Model' or 'Functional')`, className, where);
  const kerasVersion = options.kerasVersion ?? (typeof s.keras_version === 'string' ? s.keras_version : undefined);
  return buildModel(className, s.config, 'config', where, { kerasVersion, weightShapes: options.weightShapes });
}

/** `keras.models.model_from_json`: a JSON string (or its parsed value) to a model. */
export function modelFromJSON(json: string | object, options: FromConfigOptions = {}): Model {
  const where = options.where ?? 'model JSON';
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new ConfigDecodeError('(root)', 'valid JSON', (e as Error).message, where);
    }
  }
  return modelFromConfig(value, { ...options, where });
}

/** `keras.models.model_from_yaml`: YAML as Keras's `to_yaml()` writes it (`!!python/tuple`, anchors). */
export function modelFromYAML(text: string, options: FromConfigOptions = {}): Model {
  const where = options.where ?? 'model YAML';
  return modelFromConfig(parseKerasYAML(text, where), { ...options, where });
}

// ---- builders ------------------------------------------------------------

function buildModel(className: string, config: unknown, path: string, where: string, ctx: FileContext): Model {
  if (className === 'Sequential') {
    if (Array.isArray(config)) return sequentialFromConfig(config, path, where, undefined, ctx);
    const c = expectObject(config, path, where);
    const name = c.name === undefined || c.name === null ? undefined : expectString(c.name, join(path, 'name'), where);
    const layers = expectArray(c.layers, join(path, 'layers'), where);
    const model = sequentialFromConfig(layers, join(path, 'layers'), where, name, ctx);
    if (c.trainable === false) model.trainable = false;
    return model;
  }
  return functionalFromConfig(config, path, where, ctx);
}

function sequentialFromConfig(layers: unknown[], path: string, where: string, name: string | undefined, ctx: FileContext): Model {
  const model = guard(() => new Sequential({ name }), path, where);
  layers.forEach((entry, i) => {
    const p = join(path, String(i));
    const layer = layerOrModel(entry, p, where, ctx);
    guard(() => model.add(layer), p, where);
  });
  return model;
}

/** One entry of a `layers` list: a layer from the registry, or a nested model. */
function layerOrModel(entry: unknown, path: string, where: string, ctx: FileContext): Layer {
  const e = expectObject(entry, path, where);
  const fileClass = expectString(e.class_name, join(path, 'class_name'), where);
  if (MODEL_CLASSES.has(fileClass)) {
    const nested = buildModel(fileClass, e.config, join(path, 'config'), where, ctx);
    if (e.config && typeof e.config === 'object' && (e.config as Record<string, unknown>).trainable === false) nested.trainable = false;
    return nested as unknown as Layer;
  }
  const raw = e.config === undefined || e.config === null ? {} : expectObject(e.config, join(path, 'config'), where);
  const cfgPath = join(path, 'config');
  const layerName = typeof e.name === 'string' ? e.name : typeof raw.name === 'string' ? raw.name : undefined;
  const origin = { kerasVersion: ctx.kerasVersion, weightShapes: layerName === undefined ? undefined : ctx.weightShapes?.(layerName) };
  let className: string;
  let config: Record<string, unknown>;
  try {
    ({ className, config } = layerConfigRules(fileClass, raw, origin));
  } catch (err) {
    throw relocate(err, cfgPath, where, `a valid ${fileClass} config`);
  }
  if (className === 'InputLayer' && config.batch_input_shape === undefined && Array.isArray(config.batch_shape)) {
    const { batch_shape, ...rest } = config;
    config = { ...rest, batch_input_shape: batch_shape };
  }
  if (typeof e.name === 'string' && config.name === undefined) config = { ...config, name: e.name };
  try {
    return layerFromConfig({ class_name: className, config });
  } catch (err) {
    throw relocate(err, cfgPath, where, `a valid ${className} config`);
  }
}

type NodeRef = { layer: string; node: number; tensor: number };

function functionalFromConfig(config: unknown, path: string, where: string, ctx: FileContext): Model {
  const c = expectObject(config, path, where);
  const name = c.name === undefined || c.name === null ? undefined : expectString(c.name, join(path, 'name'), where);
  const layerList = expectArray(c.layers, join(path, 'layers'), where);
  const layers = new Map<string, Layer>();
  const order: { name: string; layer: Layer; nodes: { data: unknown[]; path: string; device?: string }[] }[] = [];
  const outputsOf = new Map<string, SymbolicTensor[][]>();

  layerList.forEach((entry, i) => {
    const p = join(path, `layers.${i}`);
    const e = expectObject(entry, p, where);
    const layer = layerOrModel(entry, p, where, ctx);
    const layerName = e.name === undefined ? layer.name : expectString(e.name, join(p, 'name'), where);
    if (layers.has(layerName)) throw new ConfigDecodeError(join(p, 'name'), 'a layer name not used before in this model', layerName, where);
    layers.set(layerName, layer);
    outputsOf.set(layerName, []);
    const inbound = e.inbound_nodes === undefined || e.inbound_nodes === null ? [] : expectArray(e.inbound_nodes, join(p, 'inbound_nodes'), where);
    if (layer.className === 'InputLayer') {
      if (inbound.length > 0) throw new ConfigDecodeError(join(p, 'inbound_nodes'), 'no inbound nodes for an InputLayer', inbound, where);
      outputsOf.get(layerName)!.push([inputNode(layer, layer.config.batch_input_shape as Shape)]);
    }
    const devices = e[DEVICES_KEY] === undefined ? [] : expectArray(e[DEVICES_KEY], join(p, DEVICES_KEY), where);
    const nodes = inbound.map((nodeData, j) => {
      const np = join(p, `inbound_nodes.${j}`);
      if (!Array.isArray(nodeData))
        throw new ConfigDecodeError(np, 'a list of [layer_name, node_index, tensor_index, kwargs] (Keras 2 layout)', nodeData, where);
      const device = devices[j] === undefined || devices[j] === null ? undefined : expectString(devices[j], join(p, `${DEVICES_KEY}.${j}`), where);
      return { data: nodeData, path: np, device };
    });
    order.push({ name: layerName, layer, nodes });
  });

  const resolve = (ref: NodeRef, p: string): SymbolicTensor | undefined => {
    const nodes = outputsOf.get(ref.layer);
    if (!nodes) throw new ConfigDecodeError(p, `the name of a layer of this model (${[...layers.keys()].join(', ')})`, ref.layer, where);
    const outs = nodes[ref.node];
    if (!outs) return undefined;
    const t = outs[ref.tensor];
    if (!t) throw new ConfigDecodeError(p, `an output index below ${outs.length} of layer '${ref.layer}'`, ref.tensor, where);
    return t;
  };

  // Keras's deferred reconstruction: process each layer's nodes in order once their inputs exist.
  let pending = order.reduce((n, o) => n + o.nodes.length, 0);
  while (pending > 0) {
    let progress = false;
    for (const o of order) {
      while (o.nodes.length > 0) {
        const { data, path: np, device } = o.nodes[0];
        const refs = data.map((r, k) => nodeRef(r, join(np, String(k)), where));
        const inputs = refs.map((r, k) => resolve(r, join(np, String(k))));
        if (inputs.some((t) => t === undefined)) break;
        const list = inputs as SymbolicTensor[];
        const call = () => o.layer.callAll(list.length === 1 ? list[0] : list);
        const outs = guard(() => (device === undefined ? call() : onDevice(device, call)), np, where);
        outputsOf.get(o.name)!.push(outs);
        o.nodes.shift();
        pending--;
        progress = true;
      }
    }
    if (!progress) {
      const stuck = order.find((o) => o.nodes.length > 0)!;
      throw new ConfigDecodeError(stuck.nodes[0].path, 'inbound nodes that refer to existing layer outputs (no cycles, no missing nodes)', stuck.nodes[0].data, where);
    }
  }

  const ends = (key: 'input_layers' | 'output_layers'): SymbolicTensor[] => {
    const p = join(path, key);
    let list = expectArray(c[key], p, where);
    if (list.length > 0 && typeof list[0] === 'string') list = [list]; // a single [name, node, tensor]
    if (list.length === 0) throw new ConfigDecodeError(p, 'at least one [layer_name, node_index, tensor_index]', list, where);
    return list.map((r, i) => {
      const rp = join(p, String(i));
      const t = resolve(nodeRef(r, rp, where), rp);
      if (!t) throw new ConfigDecodeError(rp, 'a node that exists', r, where);
      return t;
    });
  };
  const inputs = ends('input_layers');
  const outputs = ends('output_layers');
  const model = guard(
    () => new Model({ inputs: inputs.length === 1 ? inputs[0] : inputs, outputs: outputs.length === 1 ? outputs[0] : outputs, name }),
    path || '(root)',
    where,
  );
  if (c.trainable === false) model.trainable = false;
  return model;
}

function nodeRef(raw: unknown, path: string, where: string): NodeRef {
  if (!Array.isArray(raw) || raw.length < 3 || raw.length > 4)
    throw new ConfigDecodeError(path, '[layer_name, node_index, tensor_index] or [layer_name, node_index, tensor_index, kwargs]', raw, where);
  const [layer, node, tensor] = raw;
  if (typeof layer !== 'string') throw new ConfigDecodeError(join(path, '0'), 'a layer name (string)', layer, where);
  if (!Number.isInteger(node) || (node as number) < 0) throw new ConfigDecodeError(join(path, '1'), 'a node index (integer >= 0)', node, where);
  if (!Number.isInteger(tensor) || (tensor as number) < 0) throw new ConfigDecodeError(join(path, '2'), 'a tensor index (integer >= 0)', tensor, where);
  if (raw.length === 4 && (typeof raw[3] !== 'object' || raw[3] === null || Array.isArray(raw[3])))
    throw new ConfigDecodeError(join(path, '3'), 'call keyword arguments (an object)', raw[3], where);
  return { layer, node: node as number, tensor: tensor as number };
}

// ---- decoding helpers ----------------------------------------------------

function join(path: string, key: string): string {
  return path && path !== '(root)' ? `${path}.${key}` : key;
}

function expectObject(x: unknown, path: string, where: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new ConfigDecodeError(path || '(root)', 'an object', x, where);
  return x as Record<string, unknown>;
}

function expectArray(x: unknown, path: string, where: string): unknown[] {
  if (!Array.isArray(x)) throw new ConfigDecodeError(path || '(root)', 'a list', x, where);
  return x;
}

function expectString(x: unknown, path: string, where: string): string {
  if (typeof x !== 'string') throw new ConfigDecodeError(path || '(root)', 'a string', x, where);
  return x;
}

/** Runs `f`; an error that is not already a ConfigDecodeError becomes one at `path`. */
function guard<T>(f: () => T, path: string, where: string): T {
  try {
    return f();
  } catch (err) {
    throw relocate(err, path, where, 'a config that builds a model');
  }
}

/** Prefixes a ConfigDecodeError's path with where the layer sits in the model; wraps any other error. */
function relocate(err: unknown, path: string, where: string, expected: string): RxKerasError {
  if (err instanceof ConfigDecodeError) {
    const inner = err.path === '(root)' ? '' : err.path;
    const e = new ConfigDecodeError(inner ? join(path, inner) : path || '(root)', err.expected, err.found, err.where ? `${where}: ${err.where}` : where);
    e.cause = err;
    return e;
  }
  if (err instanceof RxKerasError && !(err.constructor.name === 'ShapeMismatchError' || err.constructor.name === 'InvalidArgumentError')) return err;
  const message = err instanceof Error ? err.message : describe(err);
  const e = new ConfigDecodeError(path || '(root)', expected, message, where);
  e.cause = err;
  return e;
}
