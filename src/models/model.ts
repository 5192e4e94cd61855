import { defer, tap, type Observable } from 'rxjs';
import * as ops from '../ops/index.js';
import { InvalidArgumentError, NotBuiltError, ShapeMismatchError } from '../core/errors.js';
import { uniqueName } from '../core/names.js';
import { foldIn, makeKey, type Key } from '../core/rng.js';
import { disposeReplaced, disposeTree, leaves, type TensorTree } from '../core/tree.js';
import type { ApplyOptions, ApplyResult, BaseLayerConfig, InitResult, Layer, Shape, Shapes, SymbolicTensor, Tensors, Weights } from '../layers/layer.js';
import { weightState } from '../layers/container.js';
import { DEVICES_KEY } from '../layers/device-scope.js';
import { symbolicCall } from '../layers/symbolic.js';
import { Dataset, type Example } from '../../streams/index.js';
import { compile, type CompileArgs } from '../training/compile.js';
import { dataInputShape, type DataArg } from '../training/data.js';
import { evaluateArrays, evaluateDataset, type EvaluateOptions } from '../training/evaluate.js';
import type { Callback, FitEvent, TrainingControl } from '../training/events.js';
import { fitLoop$, type FitData, type FitOptions } from '../training/fit.js';
import type { Module } from '../training/module.js';
import { testOnBatch, trainOnBatch, type OnBatchOptions } from '../training/on-batch.js';
import { predictArrays, predictDataset, type PredictOptions } from '../training/predict.js';
import { commitSetup, requireSetup, startState } from '../training/setup.js';
import type { Logs, TrainingSetup, TrainState, Variables } from '../training/types.js';
import { History } from '../callbacks/history.js';
import { disposeContents, modelFileContents, modelSlots, modelToConfig, readWeightsFile, toJSON, toYAML, writeLayersModel, writeModelFile, writeWeightsFile, type LoadWeightsOptions } from '../io/index.js';
import { isPlaced } from './blocks.js';
import { buildGraph, runGraph, type Graph } from './graph.js';
import { Placement } from './placement.js';
import { summary } from './summary.js';
import { fitArgs, fitWithCallbacks } from './fit-args.js';

/** A model's weights: trainable params and non-trainable state, keyed by layer name. */
export type ModelVariables = Variables;

export interface ModelArgs {
  inputs: SymbolicTensor | SymbolicTensor[];
  outputs: SymbolicTensor | SymbolicTensor[];
  name?: string;
}

/**
 * A functional model (Keras `Model` / `Functional`), the Keras facade. It is
 * a Layer and a training Module: pure `init` and `apply` over a params tree
 * keyed by layer name, so it nests in other models and trains through the
 * pure steps. It also holds what a Keras user expects a model to hold: the
 * weights (`variables`) and the compiled setup, which `fit` and friends
 * commit from the training state the loops emit.
 */
export class Model implements Module {
  readonly className: string = 'Model';
  readonly name: string;
  trainable = true;
  #variables: ModelVariables | undefined;
  #compiled: TrainingSetup | undefined;
  /** Sets the weights and setup that another owner keeps meanwhile, before they are next read or written (see `follow`). */
  #settle: (() => void) | undefined;

  /** The current weights; undefined until built. Replaced (never mutated) by training. */
  get variables(): ModelVariables | undefined {
    this.settleFollowed();
    return this.#variables;
  }

  set variables(next: ModelVariables | undefined) {
    this.settleFollowed();
    this.#variables = next;
  }

  /** Training configuration and optimizer state, set by `compile` and committed by training (see src/training). */
  get compiled(): TrainingSetup | undefined {
    this.settleFollowed();
    return this.#compiled;
  }

  set compiled(next: TrainingSetup | undefined) {
    this.settleFollowed();
    this.#compiled = next;
  }

  /**
   * Lets another owner of this model's training state (the replicas of a
   * data-parallel fit) keep it: the first read or write of `variables` or
   * `compiled` first calls `settle`, once, which sets them from that
   * owner's current state. Undefined ends it without a call.
   */
  follow(settle: (() => void) | undefined): void {
    this.#settle = settle;
  }

  private settleFollowed(): void {
    const settle = this.#settle;
    this.#settle = undefined;
    settle?.();
  }
  protected graph: Graph | undefined;
  protected singleOutput = true;

  constructor(args: ModelArgs | { name?: string }) {
    this.name = args.name ?? uniqueName(this.defaultPrefix());
    if ('inputs' in args) {
      const inputs = Array.isArray(args.inputs) ? args.inputs : [args.inputs];
      const outputs = Array.isArray(args.outputs) ? args.outputs : [args.outputs];
      this.graph = buildGraph(inputs, outputs);
      this.singleOutput = !Array.isArray(args.outputs);
    }
  }

  protected defaultPrefix(): string {
    return 'model';
  }

  get config(): BaseLayerConfig {
    return this.getConfig();
  }

  /** Layers in Keras's order (inputs first for functional models). */
  get layers(): Layer[] {
    return [...(this.graph?.layers ?? [])];
  }

  get inputs(): SymbolicTensor[] {
    return [...this.requireGraph('inputs').inputs];
  }

  get outputs(): SymbolicTensor[] {
    return [...this.requireGraph('outputs').outputs];
  }

  /** Names of the output layers, the keys of per-output losses and logs. */
  get outputNames(): string[] {
    return this.outputs.map((t) => t.node.layer.name);
  }

  get inputNames(): string[] {
    return this.inputs.map((t) => t.node.layer.name);
  }

  get built(): boolean {
    return this.variables !== undefined;
  }

  getLayer(name: string): Layer {
    const layer = this.layers.find((l) => l.name === name);
    if (!layer) throw new Error(`no layer named '${name}'; layers: ${this.layers.map((l) => l.name).join(', ')}`);
    return layer;
  }

  // ---- the Layer contract ------------------------------------------------

  init(key: Key): InitResult<TensorTree, TensorTree> {
    const graph = this.requireGraph('init');
    const params: TensorTree = {};
    const state: TensorTree = {};
    // Keys follow the layers' positions, not their names, so that a seed gives the same weights to equal models.
    const position = new Map(graph.layers.map((l, i) => [l, i]));
    for (const node of graph.nodes) {
      const layer = node.layer;
      if (layer.name in params || node.inputs.length === 0) continue;
      const inShape: Shapes = node.inputs.length === 1 ? node.inputs[0].shape : node.inputs.map((t) => t.shape);
      const r = layer.init(foldIn(key, position.get(layer)!), inShape);
      params[layer.name] = r.params;
      state[layer.name] = r.state;
    }
    return { params, state, outputShape: this.outputShapeList() };
  }

  apply(params: TensorTree, state: TensorTree, inputs: Tensors, options: ApplyOptions): ApplyResult<TensorTree> {
    const graph = this.requireGraph('apply');
    const list = Array.isArray(inputs) ? inputs : [inputs];
    // The tidy frees the intermediates (hidden activations, masks) of a call made outside one.
    return ops.tidy(() => {
      const r = runGraph(graph, params, state, list, options);
      return { outputs: this.singleOutput ? r.outputs[0] : r.outputs, state: r.state, losses: r.losses };
    }) as ApplyResult<TensorTree>;
  }

  computeOutputShape(): Shapes {
    return this.outputShapeList();
  }

  regularization(params: TensorTree): ops.Scalar | null {
    const terms: ops.Scalar[] = [];
    for (const layer of this.layers) {
      const p = params[layer.name];
      const term = p && layer.regularization?.(p as Weights & TensorTree);
      if (term) terms.push(term);
    }
    if (terms.length === 0) return null;
    return terms.length === 1 ? terms[0] : ops.tidy(() => ops.addN(terms) as ops.Scalar);
  }

  constrain(params: TensorTree): TensorTree {
    const out: TensorTree = { ...params };
    for (const layer of this.layers)
      if (layer.constrain && params[layer.name]) out[layer.name] = layer.constrain(params[layer.name] as Weights & TensorTree);
    return out;
  }

  /** Paths ('dense/kernel') of the params that training updates: those of trainable layers in trainable models. */
  trainablePaths(params: TensorTree): Set<string> {
    const out = new Set<string>();
    if (!this.trainable) return out;
    for (const layer of this.layers) {
      const p = params[layer.name];
      if (!p || !layer.trainable) continue;
      if (layer instanceof Model) for (const path of layer.trainablePaths(p as TensorTree)) out.add(`${layer.name}/${path}`);
      else for (const [path] of leaves(p as TensorTree)) out.add(`${layer.name}/${path}`);
    }
    return out;
  }

  getConfig(): BaseLayerConfig {
    const graph = this.requireGraph('getConfig');
    const nodeIndex = new Map<number, number>();
    const nodesOf = new Map<Layer, number[]>();
    for (const node of [...graph.nodes].sort((a, b) => a.id - b.id)) {
      const list = nodesOf.get(node.layer) ?? [];
      nodeIndex.set(node.id, list.length);
      list.push(node.id);
      nodesOf.set(node.layer, list);
    }
    const ref = (t: SymbolicTensor) => [t.node.layer.name, nodeIndex.get(t.node.id) ?? 0, t.index];
    const layers = this.layers.map((layer) => {
      const nodes = graph.nodes.filter((n) => n.layer === layer && n.inputs.length > 0).sort((a, b) => a.id - b.id);
      const entry = { class_name: layer.className, config: layer.getConfig(), name: layer.name, inbound_nodes: nodes.map((n) => n.inputs.map((t) => [...ref(t), {}])) };
      // Device placements (onDevice), one per inbound node, under a key Keras's loaders ignore.
      return nodes.some((n) => n.device) ? { ...entry, [DEVICES_KEY]: nodes.map((n) => n.device ?? null) } : entry;
    });
    return {
      name: this.name,
      trainable: this.trainable,
      dtype: 'float32',
      layers,
      input_layers: graph.inputs.map(ref),
      output_layers: graph.outputs.map(ref),
    } as BaseLayerConfig;
  }

  call(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
    return symbolicCall(this as unknown as Layer, inputs)[0];
  }

  callAll(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor[] {
    return symbolicCall(this as unknown as Layer, inputs);
  }

  // ---- weights held by the model ----------------------------------------

  /** Initialises the weights (seeded for reproducibility) unless already built. */
  build(seed?: number): this {
    if (!this.variables) {
      const { params, state } = this.init(makeKey(seed));
      this.variables = { params, state };
    }
    return this;
  }

  /** Builds the graph for data of this shape where it is not yet known (a Sequential model without input_shape). */
  buildForInput(_batchInputShape: Shape): void {}

  /** Replaces the weights, disposing the old ones that are not reused. */
  setVariables(next: ModelVariables): void {
    const old = this.variables;
    this.variables = next;
    if (old) {
      const kept = new Set([...leaves(next.params), ...leaves(next.state)].map(([, t]) => t));
      for (const [, t] of [...leaves(old.params), ...leaves(old.state)]) if (!kept.has(t)) t.dispose();
    }
  }

  /** Keras `get_weights()`: copies, per layer in model order, each layer's weights in Keras order. */
  getWeights(): ops.Tensor[] {
    const v = this.requireVariables('getWeights');
    return this.layers.flatMap((l) => layerWeights(v, l).map((t) => ops.clone(t)));
  }

  /** Keras `set_weights()`: copies of `weights` in `getWeights()` order; shapes must match. */
  setWeights(weights: ops.Tensor[]): void {
    const v = this.requireVariables('setWeights');
    const current = this.layers.flatMap((l) => layerWeights(v, l).map((t, i) => [l, i, t] as const));
    if (weights.length !== current.length)
      throw new ShapeMismatchError('setWeights', `${current.length} weight arrays`, `${weights.length}`);
    const replaced = new Map<ops.Tensor, ops.Tensor>();
    current.forEach(([l, , t], i) => {
      if (!ops.util.arraysEqual(t.shape, weights[i].shape)) throw new ShapeMismatchError(`setWeights: layer '${l.name}' weight ${i}`, t.shape, weights[i].shape);
      replaced.set(t, ops.clone(weights[i]));
    });
    const swap = (tree: TensorTree): TensorTree =>
      Object.fromEntries(Object.entries(tree).map(([k, x]) => [k, x instanceof ops.Tensor ? (replaced.get(x) ?? x) : swap(x)]));
    this.setVariables({ params: swap(v.params), state: swap(v.state) });
  }

  countParams(): { total: number; trainable: number; nonTrainable: number } {
    const v = this.requireVariables('countParams');
    const trainable = this.trainablePaths(v.params);
    let t = 0;
    let n = 0;
    for (const [path, x] of leaves(v.params)) (trainable.has(path) ? (t += x.size) : (n += x.size));
    for (const layer of this.layers) for (const [, x] of leaves(weightState(layer, (v.state[layer.name] ?? {}) as TensorTree))) n += x.size;
    return { total: t + n, trainable: t, nonTrainable: n };
  }

  // ---- the Keras facade: training, on the pure steps and the event stream ----

  /** Keras `compile`: resolves optimizer, losses and metrics against the outputs; resets the optimizer state. */
  compile(args: CompileArgs, seed?: number): void {
    const previous = this.compiled;
    if (previous) disposeReplaced(previous.optState, undefined);
    this.compiled = { compiled: compile(this.outputNamesOrDefault(), args, this.graph ? this.outputs.map((t) => t.shape) : []), optState: undefined, optPaths: '', step: 0, key: makeKey(seed) };
  }

  /**
   * Keras `fit`: trains and resolves with the History. `x, y` are arrays
   * (tensors or nested number arrays, one per input / output), or `x` is a
   * Dataset of batched Examples and `y` is omitted. `callbacks` are operators
   * on the event stream.
   */
  async fit(x: DataArg, y: DataArg, options?: FitOptions & { callbacks?: Callback[] }): Promise<History>;
  async fit(dataset: Dataset<Example>, options?: FitOptions & { callbacks?: Callback[] }): Promise<History>;
  async fit(...args: unknown[]): Promise<History> {
    const [data, options = {}] = fitArgs(args);
    return fitWithCallbacks(this.train$(data, options), options.callbacks ?? [], options.verbose);
  }

  /** The training event stream of `fit`; subscribe to train, unsubscribe to stop. */
  fit$(x: DataArg, y: DataArg, options?: FitOptions): Observable<FitEvent>;
  fit$(dataset: Dataset<Example>, options?: FitOptions): Observable<FitEvent>;
  fit$(...args: unknown[]): Observable<FitEvent> {
    const [data, options] = fitArgs(args);
    return this.train$(data, options);
  }

  /**
   * The fit loop over this model's weights: at subscription, the training
   * state starts from them; every event's state is committed back (before
   * the callbacks see the event), and the loop's last state when it ends.
   */
  private train$(data: FitData, options: FitOptions = {}): Observable<FitEvent> {
    return defer(() => {
      const setup = requireSetup(this.compiled, 'fit');
      if ('dataset' in data) {
        if (!this.graph) throw new InvalidArgumentError('model', 'a model with a known input shape to train from a Dataset', this.name);
      } else this.buildForData(data.x);
      const start = this.startState(setup);
      let control: TrainingControl | undefined;
      // Calls placed with onDevice run on their devices.
      const placement = this.graph && isPlaced(this.graph) ? new Placement(this, setup.compiled) : undefined;
      return fitLoop$(this, setup.compiled, start, data, options, placement).pipe(
        tap((e) => {
          control = e.control;
          this.commit(e.control.state);
        }),
        // The loop's last state, also when a callback replaced it after the last event or the run failed.
        tap({
          finalize: () => {
            if (control) this.commit(control.state);
            void placement?.close();
          },
        }),
      );
    });
  }

  /** Keras `predict` on a Dataset of batched Examples. */
  predictDataset(dataset: Dataset<Example>, options?: { steps?: number; prefetch?: number }): Promise<ops.Tensor | ops.Tensor[]> {
    return predictDataset(this, this.build().variables!, dataset, options);
  }

  /** Keras `evaluate` on a Dataset of batched Examples. */
  async evaluateDataset(dataset: Dataset<Example>, options?: { steps?: number; prefetch?: number }): Promise<Logs> {
    const setup = requireSetup(this.compiled, 'evaluate');
    return evaluateDataset(this, setup.compiled, this.build().variables!, dataset, options);
  }

  evaluate(x: DataArg, y: DataArg, options?: EvaluateOptions): Logs {
    const setup = requireSetup(this.compiled, 'evaluate');
    return evaluateArrays(this, setup.compiled, this.buildForData(x), x, y, options);
  }

  predict(x: DataArg, options?: PredictOptions): ops.Tensor | ops.Tensor[] {
    return predictArrays(this, this.buildForData(x), x, options);
  }

  trainOnBatch(x: DataArg, y: DataArg, options?: OnBatchOptions): Logs {
    const setup = requireSetup(this.compiled, 'trainOnBatch');
    this.buildForData(x);
    const { state, logs } = trainOnBatch(this, setup.compiled, this.startState(setup), x, y, options);
    this.commit(state);
    return logs;
  }

  testOnBatch(x: DataArg, y: DataArg, options?: OnBatchOptions): Logs {
    const setup = requireSetup(this.compiled, 'testOnBatch');
    return testOnBatch(this, setup.compiled, this.buildForData(x), x, y, options);
  }

  predictOnBatch(x: DataArg): ops.Tensor | ops.Tensor[] {
    return this.predict(x, { batchSize: Number.MAX_SAFE_INTEGER });
  }

  /** The training state to go on from: the weights, with the setup's optimizer state (made when needed), step and key. */
  private startState(setup: TrainingSetup): TrainState {
    const r = startState(this, setup, this.build().variables!);
    this.compiled = r.setup;
    return r.state;
  }

  /** Takes a training state as the model's weights and optimizer state (training owns and disposes what it replaced). */
  private commit(ts: TrainState): void {
    this.variables = { params: ts.params, state: ts.state };
    if (this.compiled) this.compiled = commitSetup(this.compiled, ts);
  }

  /** Builds the model for x (learning the input shape from it where unknown) and returns its weights. */
  private buildForData(x: DataArg): ModelVariables {
    if (!this.graph) {
      const shape = dataInputShape(x);
      if (shape) this.buildForInput(shape);
    }
    return this.build().variables!;
  }

  /** Keras's `summary()` table; printed with `print` (console.log by default) and returned. */
  summary(print: (line: string) => void = console.log): string {
    const text = summary(this, this.build().variables!);
    for (const line of text.split('\n')) print(line);
    return text;
  }

  private outputNamesOrDefault(): string[] {
    return this.graph ? this.outputNames : [this.layers[this.layers.length - 1]?.name ?? 'output'];
  }

  // ---- Keras's file formats (src/io), as methods ----

  /** Keras `to_json()`: the architecture in Keras 2's JSON layout. */
  toJSON(): string {
    return toJSON(this);
  }

  /** Keras `to_yaml()`. */
  toYAML(): string {
    return toYAML(this);
  }

  /** Keras `save()`: architecture, weights, training config and optimizer state in one .h5 file (atomic). */
  async save(path: string): Promise<void> {
    const contents = modelFileContents(this, this.build().variables!, this.compiled);
    try {
      await writeModelFile(path, contents);
    } finally {
      disposeContents(contents);
    }
  }

  /** Keras `save_weights()` to .h5 (atomic). */
  async saveWeights(path: string): Promise<void> {
    await writeWeightsFile(path, modelSlots(this, this.build().variables!));
  }

  /** Writes the model in the TF.js layers format (model.json and shards) into `dir`, as tfjs-layers's `save` does. */
  async saveLayersModel(dir: string): Promise<void> {
    await writeLayersModel(dir, modelToConfig(this), modelSlots(this, this.build().variables!));
  }

  /** Keras `load_weights()` from .h5, by topological order or by name; a failed load changes nothing. */
  async loadWeights(path: string, options?: LoadWeightsOptions): Promise<void> {
    const wasBuilt = this.built;
    try {
      this.setVariables(await readWeightsFile(path, this, this.build().variables!, options));
    } catch (e) {
      if (!wasBuilt) this.dispose();
      throw e;
    }
  }

  /** Frees the weights. */
  dispose(): void {
    if (this.variables) {
      disposeTree(this.variables.params);
      disposeTree(this.variables.state);
      this.variables = undefined;
    }
  }

  protected requireGraph(what: string): Graph {
    if (!this.graph) throw new NotBuiltError(`${this.name}.${what}`);
    return this.graph;
  }

  protected requireVariables(what: string): ModelVariables {
    if (!this.variables) throw new NotBuiltError(`${this.name}.${what}`);
    return this.variables;
  }

  private outputShapeList(): Shapes {
    const shapes = this.requireGraph('computeOutputShape').outputs.map((t) => t.shape);
    return this.singleOutput ? shapes[0] : shapes;
  }
}

/** A layer's weights in Keras order: trainable params, then non-trainable state; nested models flattened. */
export function layerWeights(v: ModelVariables, layer: Layer): ops.Tensor[] {
  const p = (v.params[layer.name] ?? {}) as TensorTree;
  const s = weightState(layer, (v.state[layer.name] ?? {}) as TensorTree);
  return [...leaves(p), ...leaves(s)].map(([, t]) => t);
}

