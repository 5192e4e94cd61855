import type { BaseLayerConfig, Layer, Shape } from '../layers/layer.js';
import { Input } from '../layers/input-layer.js';
import { foldIn, makeKey } from '../core/rng.js';
import { InvalidArgumentError } from '../core/errors.js';
import { disposeTree, type TensorTree } from '../core/tree.js';
import { buildGraph } from './graph.js';
import { Model } from './model.js';

/**
 * Keras `Sequential`: a linear stack of layers. The graph is (re)built as
 * soon as the input shape is known: from the first layer's `input_shape`,
 * an `InputLayer`, or the data given to `fit` / `predict`.
 */
export class Sequential extends Model {
  override readonly className: string = 'Sequential';
  private stack: Layer[] = [];
  private batchInputShape: Shape | undefined;

  constructor(args: { layers?: Layer[]; name?: string } = {}) {
    super({ name: args.name });
    for (const layer of args.layers ?? []) this.add(layer);
  }

  protected override defaultPrefix(): string {
    return 'sequential';
  }

  override get layers(): Layer[] {
    return [...this.stack];
  }

  add(layer: Layer): this {
    if (layer.className === 'InputLayer') {
      if (this.stack.length > 0) throw new InvalidArgumentError('Sequential.add', 'an InputLayer only as the first layer', layer.name);
      this.batchInputShape = layer.config.batch_input_shape as Shape;
      return this;
    }
    if (this.stack.some((l) => l.name === layer.name))
      throw new InvalidArgumentError('Sequential.add', 'a layer name not already in the model', layer.name);
    if (this.stack.length === 0 && !this.batchInputShape && layer.config.batch_input_shape)
      this.batchInputShape = layer.config.batch_input_shape as Shape;
    this.stack.push(layer);
    this.rebuild();
    if (this.variables && this.graph) {
      // A built model stays built: the new layer gets fresh weights, the others keep theirs.
      const node = this.graph.nodes.find((n) => n.layer === layer)!;
      const r = layer.init(foldIn(makeKey(), this.stack.length), node.inputs[0].shape);
      this.variables = {
        params: { ...this.variables.params, [layer.name]: r.params },
        state: { ...this.variables.state, [layer.name]: r.state },
      };
    }
    return this;
  }

  /** Removes the last layer (and its weights), as Keras's `pop()`. */
  pop(): Layer {
    const layer = this.stack.pop();
    if (!layer) throw new InvalidArgumentError('Sequential.pop', 'a model with at least one layer', 'an empty model');
    if (this.variables) {
      const { [layer.name]: p, ...params } = this.variables.params;
      const { [layer.name]: s, ...state } = this.variables.state;
      disposeTree(p as TensorTree | undefined);
      disposeTree(s as TensorTree | undefined);
      this.variables = { params, state };
    }
    this.rebuild();
    return layer;
  }

  /** Builds the graph for inputs of `inputShape` (batch dimension included, null allowed) and initialises weights. */
  override build(seed?: number, batchInputShape?: Shape): this {
    if (!this.graph) {
      if (!batchInputShape) throw new InvalidArgumentError('Sequential.build', 'an input shape (the first layer has no input_shape)', undefined);
      this.batchInputShape = batchInputShape;
      this.rebuild();
    }
    return super.build(seed);
  }

  override buildForInput(batchInputShape: Shape): void {
    if (!this.graph) this.build(undefined, batchInputShape);
  }

  /** The batch input shape, when known. */
  get inputShape(): Shape | undefined {
    return this.batchInputShape;
  }

  override getConfig(): BaseLayerConfig {
    const layers = this.stack.map((l, i) => {
      const config = { ...l.getConfig() };
      if (i === 0 && this.batchInputShape) config.batch_input_shape = this.batchInputShape;
      return { class_name: l.className, config };
    });
    return { name: this.name, trainable: this.trainable, dtype: 'float32', layers } as BaseLayerConfig;
  }

  private rebuild(): void {
    if (!this.batchInputShape || this.stack.length === 0) {
      this.graph = undefined;
      return;
    }
    const input = Input({ batch_input_shape: this.batchInputShape, name: `${this.stack[0].name}_input` });
    let x = input;
    for (const layer of this.stack) x = layer.call(x);
    this.graph = buildGraph([input], [x]);
  }
}
