import fs from 'node:fs';
import { InvalidArgumentError } from '../core/errors.js';
import { Dense } from '../layers/dense.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D } from '../layers/global-pooling2d.js';
import { Input } from '../layers/input-layer.js';
import type { Shape } from '../layers/layer.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { obtainInputShape, validateActivation, type InputShapeRules } from './imagenet-utils.js';

/** Keras's keyword arguments common to every application. */
export interface ApplicationOptions {
  /** Whether to include the classifier at the top (default true). */
  include_top?: boolean;
  /** 'imagenet' (default), null (random initialisation), or the path to a weights file. */
  weights?: 'imagenet' | null | string;
  /** A symbolic tensor (the output of `Input`) to use as the image input. */
  input_tensor?: SymbolicTensor;
  /** The input shape without the batch, e.g. [224, 224, 3]; only free when include_top is false. */
  input_shape?: Shape;
  /** Pooling of the last feature map when include_top is false: 'avg', 'max' or null (4D output). */
  pooling?: 'avg' | 'max' | null;
  /** Number of classes of the top (default 1000; only another with weights other than 'imagenet'). */
  classes?: number;
  /** Activation of the top layer: 'softmax' (default) or null for logits. */
  classifier_activation?: string | null;
}

/** A Keras weights file to fetch: its file name in the cache, its URL, and its MD5 where Keras gives one. */
export interface WeightsFile {
  fileName: string;
  url: string;
  fileHash?: string;
}

/**
 * An application as built: the functional graph (inputs, output, name) and
 * where its weights come from. The facade (`rx.applications`) turns it into
 * a Model and loads the weights.
 */
export interface ApplicationSpec {
  name: string;
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor;
  /** The Keras weights file for weights: 'imagenet', a path for a path, null for none. */
  weights: WeightsFile | string | null;
}

/** The options with Keras's defaults filled in and its argument checks done. */
export interface Resolved {
  includeTop: boolean;
  weights: 'imagenet' | string | null;
  pooling: 'avg' | 'max' | null;
  classes: number;
  classifierActivation: string | null;
}

/** Keras's checks of `weights` and `classes`, shared by every application. */
export function resolveOptions(o: ApplicationOptions, where: string): Resolved {
  const weights = o.weights === undefined ? 'imagenet' : o.weights;
  if (!(weights === 'imagenet' || weights === null || (typeof weights === 'string' && fs.existsSync(weights))))
    throw new InvalidArgumentError(`${where}: weights`, "null (random initialization), 'imagenet' (pre-training on ImageNet), or the path to an existing weights file", weights);
  const includeTop = o.include_top ?? true;
  const classes = o.classes ?? 1000;
  if (weights === 'imagenet' && includeTop && classes !== 1000)
    throw new InvalidArgumentError(`${where}: classes`, "1000 when weights are 'imagenet' and include_top is true", classes);
  const pooling = o.pooling ?? null;
  if (pooling !== null && pooling !== 'avg' && pooling !== 'max') throw new InvalidArgumentError(`${where}: pooling`, "'avg', 'max' or null", pooling);
  const classifierActivation = o.classifier_activation === undefined ? 'softmax' : o.classifier_activation;
  return { includeTop, weights, pooling, classes, classifierActivation };
}

/** The image input: `input_tensor` when given, else a new `Input` of the checked shape. */
export function imageInput(o: ApplicationOptions, rules: InputShapeRules, where: string): { input: SymbolicTensor; shape: Shape } {
  const shape = obtainInputShape(o.input_shape, rules, where);
  if (o.input_tensor) return { input: o.input_tensor, shape: o.input_tensor.shape.slice(1) };
  return { input: Input({ shape }), shape };
}

/** The model's inputs: the InputLayer tensors `input_tensor` comes from (Keras's `get_source_inputs`), else the new input. */
export function sourceInputs(o: ApplicationOptions, input: SymbolicTensor): SymbolicTensor[] {
  if (!o.input_tensor) return [input];
  const found: SymbolicTensor[] = [];
  const seen = new Set<unknown>();
  const visit = (t: SymbolicTensor) => {
    if (seen.has(t.node)) return;
    seen.add(t.node);
    if (t.node.inputs.length === 0) found.push(t);
    else t.node.inputs.forEach(visit);
  };
  visit(o.input_tensor);
  return found;
}

/** The feature-extractor end when include_top is false: the pooling chosen, with Keras's default or given layer names. */
export function pool(x: SymbolicTensor, pooling: 'avg' | 'max' | null, names: { avg?: string; max?: string } = {}): SymbolicTensor {
  if (pooling === 'avg') return GlobalAveragePooling2D(names.avg ? { name: names.avg } : {}).call(x);
  if (pooling === 'max') return GlobalMaxPooling2D(names.max ? { name: names.max } : {}).call(x);
  return x;
}

/**
 * The end of the networks whose top is global average pooling and a Dense
 * classifier (Keras's `avg_pool` and `predictions`); without the top, the
 * pooling chosen.
 */
export function averagePoolTop(x: SymbolicTensor, r: Resolved, where: string, poolNames: { avg?: string; max?: string } = {}): SymbolicTensor {
  if (!r.includeTop) return pool(x, r.pooling, poolNames);
  const pooled = GlobalAveragePooling2D({ name: 'avg_pool' }).call(x);
  validateActivation(r.classifierActivation, r.weights, where);
  return Dense({ units: r.classes, activation: r.classifierActivation, name: 'predictions' }).call(pooled);
}

/** Keras's `<stem>_weights_tf_dim_ordering_tf_kernels[_notop].h5` under `keras-applications/<dir>/`, with its MD5 for the top and the notop file. */
export function tfKernelsWeights(r: Resolved, dir: string, stem: string, hashes: readonly [string, string]): WeightsFile {
  const fileName = `${stem}_weights_tf_dim_ordering_tf_kernels${r.includeTop ? '' : '_notop'}.h5`;
  return { fileName, url: `${KERAS_WEIGHTS_BASE}${dir}/${fileName}`, fileHash: hashes[r.includeTop ? 0 : 1] };
}

/** The weights source of a spec: Keras's file for 'imagenet', the path for a path. */
export function weightsSource(r: Resolved, file: () => WeightsFile): WeightsFile | string | null {
  return r.weights === 'imagenet' ? file() : r.weights;
}

/** Python's `str(float)`: 1 -> '1.0', 0.5 -> '0.5' (Keras's weight file names use it). */
export function pyFloat(v: number): string {
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

/** The Keras-hosted weights of `keras-applications/<dir>/<file>`. */
export const KERAS_WEIGHTS_BASE = 'https://storage.googleapis.com/tensorflow/keras-applications/';
