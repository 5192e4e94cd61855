import * as ops from '../ops/index.js';
import { foldIn } from '../core/rng.js';
import { disposeReplaced, fromLeaves, leaves, type TensorTree } from '../core/tree.js';
import type { SymbolicTensor } from '../layers/layer.js';
import { computeLoss } from '../losses/index.js';
import type { Compiled } from '../training/compile.js';
import type { Module } from '../training/module.js';
import type { StepRunner } from '../training/step-runner.js';
import { applyGradients, type StepResult } from '../training/steps.js';
import type { Batch, TrainState, Variables } from '../training/types.js';
import type { Device } from '../parallel/device.js';
import { getDevice } from '../parallel/devices.js';
import { fromWire, toWire, type WireTensor } from '../parallel/wire.js';
import { accumulate, blockVjp, blocksOf, graphKeys, MAIN_DEVICE, runBlock, subtree, type Block, type BlockArgs, type BlockCall } from './blocks.js';
import { buildGraph, type Graph } from './graph.js';

const placementWorker = new URL('./placement-worker.js', import.meta.url);

/** What placement needs of a functional model: its graph's ends, and its config for the devices' copies. */
export interface PlacedModel extends Module {
  readonly inputs: SymbolicTensor[];
  readonly outputs: SymbolicTensor[];
  toJSON(): string;
}
let nextSession = 0;

/** What a block's forward left for its backward: its inputs, outputs and the device's answer. */
interface Forward {
  inputs: ops.Tensor[];
  outputs: ops.Tensor[];
  state: TensorTree;
  loss: number;
}

/**
 * Training and evaluation of a model whose layer calls were placed with
 * `onDevice`: the graph is cut into blocks (runs of calls on one device),
 * which run as soon as their inputs exist, so that branches on different
 * devices run at the same time. Activations go to a block's device and
 * come back; the backward pass is one vector-Jacobian product per block,
 * in reverse, each recomputing its block's forward where it ran, with the
 * cotangents of its outputs sent there and those of its inputs sent back.
 * A layer whose calls ran on several devices gets the sum of their
 * gradients. The optimizer update runs on the main thread.
 */
export class Placement implements StepRunner {
  private readonly graph: Graph;
  private readonly blocks: Block[];
  private readonly keys: ReturnType<typeof graphKeys>;
  private readonly session = nextSession++;
  private opened: Promise<void> | undefined;
  private readonly devices: Map<string, Device>;

  constructor(
    readonly model: PlacedModel,
    readonly compiled: Compiled,
    private readonly setup: readonly string[] = [],
  ) {
    this.graph = buildGraph(model.inputs, model.outputs);
    this.blocks = blocksOf(this.graph);
    this.keys = graphKeys(this.graph);
    this.devices = new Map(this.blocks.filter((b) => b.device !== MAIN_DEVICE).map((b) => [b.device, getDevice(b.device)]));
  }

  async train(ts: TrainState, batch: Batch): Promise<{ state: TrainState; result: StepResult }> {
    const key = foldIn(ts.key, ts.step);
    const trainable = this.model.trainablePaths(ts.params);
    const f = await this.forward(ts.params, ts.state, batch.x, true, key);
    const made: ops.Tensor[] = [...f.values.values()].filter((t) => !batch.x.includes(t));
    const grads = new Map<string, ops.Tensor>();
    let result: StepResult | undefined;
    let newState: TensorTree | undefined;
    try {
      const outputs = this.graph.outputs.map((t) => f.values.get(t)!);
      const { value, cotangents, outputLosses } = this.outputCotangents(outputs, batch);
      const cot = new Map<SymbolicTensor, ops.Tensor>(this.graph.outputs.map((t, i) => [t, cotangents[i]]));
      made.push(value, ...cotangents);
      await this.backward(f, cot, ts, trainable, key, grads, made);
      const reg = this.regularization(ts.params, trainable, grads);
      const total = ops.tidy(() => ops.add(ops.add(value, reg), f.blockLoss) as ops.Scalar);
      result = { loss: total, outputLosses, predictions: outputs.map((o) => ops.clone(o)) };
      newState = { ...ts.state, ...f.state };
      const gradTree = fromLeaves([...trainable].map((p) => [p, grads.get(p) ?? zerosLikeParam(ts.params, p)] as [string, ops.Tensor]));
      try {
        const next = applyGradients(this.model, this.compiled, { ...ts, state: newState }, gradTree);
        disposeReplaced({ p: ts.params, s: ts.state, o: ts.optState }, next);
        return { state: next, result };
      } finally {
        ops.dispose(leaves(gradTree).map(([, t]) => t));
      }
    } catch (error) {
      if (result) ops.dispose([result.loss, ...result.outputLosses, ...result.predictions]);
      disposeReplaced(f.state, ts.state);
      throw error;
    } finally {
      ops.dispose([...made, ...grads.values()]);
    }
  }

  async test(variables: Variables, batch: Batch): Promise<StepResult> {
    const f = await this.forward(variables.params, variables.state, batch.x, false, undefined);
    try {
      return ops.tidy(() => {
        const predictions = this.graph.outputs.map((t) => ops.clone(f.values.get(t)!));
        const outputLosses = predictions.map((p, i) => computeLoss(this.compiled.losses[i], batch.y[i], p, batch.sampleWeight?.[i] ?? null));
        const loss = ops.addN(outputLosses.map((l, i) => ops.mul(l, this.compiled.lossWeights[i]))) as ops.Scalar;
        return { loss, outputLosses, predictions };
      });
    } finally {
      ops.dispose([...f.values.values()].filter((t) => !batch.x.includes(t)));
      disposeReplaced(f.state, variables.state);
    }
  }

  /** Frees the model copies on the devices. */
  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = undefined;
    await Promise.allSettled([...this.devices.values()].map((d) => d.call(placementWorker, 'close', { session: this.session })));
  }

  /**
   * Runs every block once its inputs exist (blocks on different devices at
   * the same time). Returns every value made (main-thread tensors), each
   * block's forward, the new state of the placed layers, and the sum of the
   * blocks' activity penalties (their gradients come with each block's VJP).
   */
  private async forward(params: TensorTree, state: TensorTree, x: ops.Tensor[], training: boolean, key: number | undefined) {
    await (this.opened ??= this.open());
    const values = new Map<SymbolicTensor, ops.Tensor>(this.graph.inputs.map((t, i) => [t, x[i]]));
    const forwards = new Map<Block, Forward>();
    const producer = new Map<SymbolicTensor, Promise<void>>();
    const newState: TensorTree = {};
    let blockLoss = 0;
    const failures: unknown[] = [];
    const run = async (b: Block) => {
      await Promise.all(b.inputs.map((t) => producer.get(t)));
      const inputs = b.inputs.map((t) => values.get(t)!);
      const r = await this.runForward(b, inputs, params, state, training, key);
      b.outputs.forEach((t, i) => values.set(t, r.outputs[i]));
      Object.assign(newState, r.state);
      blockLoss += r.loss;
      forwards.set(b, { ...r, inputs });
    };
    const done = this.blocks.map((b) => {
      const p = run(b).catch((e: unknown) => {
        failures.push(e);
        throw e;
      });
      for (const t of b.outputs) producer.set(t, p);
      return p;
    });
    const settled = await Promise.allSettled(done);
    if (failures.length) {
      ops.dispose([...values.values()].filter((t) => !x.includes(t)));
      disposeReplaced(newState, state);
      throw settled.find((s) => s.status === 'rejected')!.reason;
    }
    return { values, forwards, state: newState, blockLoss };
  }

  /** One block forward, here or on its device; the returned tensors are main-thread tensors the caller owns. */
  private async runForward(b: Block, inputs: ops.Tensor[], params: TensorTree, state: TensorTree, training: boolean, key: number | undefined): Promise<Omit<Forward, 'inputs'>> {
    if (b.device === MAIN_DEVICE) {
      const r = runBlock(this.call(b, training, key), inputs, params, state);
      try {
        return { outputs: r.outputs, state: r.state, loss: r.loss ? r.loss.dataSync()[0] : 0 };
      } finally {
        ops.dispose(r.loss ? [r.loss] : []);
      }
    }
    const r = await this.devices.get(b.device)!.call<{ outputs: WireTensor[]; state: [string, WireTensor][]; loss: number }>(
      placementWorker,
      'forward',
      this.blockArgs(b, inputs, params, state, training, key),
    );
    return { outputs: r.outputs.map(fromWire), state: fromLeaves(r.state.map(([p, w]) => [p, fromWire(w)] as [string, ops.Tensor])), loss: r.loss };
  }

  /**
   * The backward pass: each block's VJP once every block reading its
   * outputs has sent back their cotangents; param gradients summed into
   * `grads` (trainable paths only).
   */
  private async backward(f: Awaited<ReturnType<Placement['forward']>>, cot: Map<SymbolicTensor, ops.Tensor>, ts: TrainState, trainable: Set<string>, key: number, grads: Map<string, ops.Tensor>, made: ops.Tensor[]): Promise<void> {
    const readers = new Map<Block, Block[]>(this.blocks.map((b) => [b, this.blocks.filter((o) => o.inputs.some((t) => b.outputs.includes(t)))]));
    const finished = new Map<Block, Promise<void>>();
    const add = (t: SymbolicTensor, g: ops.Tensor) => {
      const prev = cot.get(t);
      cot.set(t, prev ? ops.add(prev, g) : g);
      made.push(g, ...(prev ? [cot.get(t)!] : []));
    };
    const vjp = async (b: Block) => {
      await Promise.all(readers.get(b)!.map((r) => finished.get(r)));
      const fwd = f.forwards.get(b)!;
      // Only values made by another block need a cotangent (model inputs do not).
      const wrt = b.inputs.flatMap((t, i) => (t.node.inputs.length > 0 && fwd.inputs[i].dtype === 'float32' ? [i] : []));
      const layerPaths = [...trainable].filter((p) => b.layers.some((l) => p.startsWith(`${l.name}/`)));
      const cotangents = b.outputs.map((t) => cot.get(t) ?? null);
      const r = await this.runVjp(b, fwd.inputs, wrt, cotangents, ts, layerPaths, key);
      wrt.forEach((i, k) => add(b.inputs[i], r.inputs[k]));
      for (const [p, g] of r.params) accumulate(grads, p, g);
    };
    for (const b of [...this.blocks].reverse()) finished.set(b, vjp(b));
    const settled = await Promise.allSettled([...finished.values()]);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  private async runVjp(b: Block, inputs: ops.Tensor[], wrt: number[], cotangents: (ops.Tensor | null)[], ts: TrainState, trainable: string[], key: number): Promise<{ inputs: ops.Tensor[]; params: [string, ops.Tensor][] }> {
    if (b.device === MAIN_DEVICE) return blockVjp(this.call(b, true, key), inputs, wrt, cotangents, ts.params, trainable, ts.state);
    const r = await this.devices.get(b.device)!.call<{ inputs: WireTensor[]; params: [string, WireTensor][] }>(placementWorker, 'vjp', {
      ...this.blockArgs(b, inputs, ts.params, ts.state, true, key),
      cotangents: cotangents.map((c) => (c ? toWire(c) : null)),
      wrt,
      trainable,
    });
    return { inputs: r.inputs.map(fromWire), params: r.params.map(([p, w]) => [p, fromWire(w)]) };
  }

  /** The data loss (loss-weighted) and its gradient with respect to each model output. */
  private outputCotangents(outputs: ops.Tensor[], batch: Batch): { value: ops.Scalar; cotangents: ops.Tensor[]; outputLosses: ops.Scalar[] } {
    const outputLosses = outputs.map((o, i) => computeLoss(this.compiled.losses[i], batch.y[i], o, batch.sampleWeight?.[i] ?? null));
    const objective = (...ys: ops.Tensor[]) =>
      ops.addN(ys.map((o, i) => ops.mul(computeLoss(this.compiled.losses[i], batch.y[i], o, batch.sampleWeight?.[i] ?? null), this.compiled.lossWeights[i]))) as ops.Scalar;
    const { value, grads } = ops.valueAndGrads(objective)(outputs);
    return { value, cotangents: grads, outputLosses };
  }

  /** Adds the weight penalties' gradients into `grads`; returns the penalty (0 when none). */
  private regularization(params: TensorTree, trainable: Set<string>, grads: Map<string, ops.Tensor>): ops.Scalar {
    const paths = [...trainable];
    const byPath = new Map(leaves(params));
    const penalty = (...ws: ops.Tensor[]): ops.Scalar => {
      const replaced = new Map(paths.map((p, i) => [p, ws[i]]));
      const merged = fromLeaves([...byPath].map(([p, t]) => [p, replaced.get(p) ?? t] as [string, ops.Tensor]));
      // Every weight takes part (with a zero gradient where no penalty applies): tfjs refuses unconnected inputs.
      return ops.add(this.model.regularization(merged) ?? ops.scalar(0), ops.mul(ops.addN(ws.map((w) => ops.sum(w))), 0)) as ops.Scalar;
    };
    const probe = paths.length ? this.model.regularization(params) : null;
    if (probe === null) return ops.scalar(0);
    probe.dispose();
    const { value, grads: g } = ops.valueAndGrads(penalty)(paths.map((p) => byPath.get(p)!));
    paths.forEach((p, i) => accumulate(grads, p, g[i]));
    return value;
  }

  private call(b: Block, training: boolean, key: number | undefined): BlockCall {
    return { nodes: b.nodes, inputs: b.inputs, outputs: b.outputs, options: { training, key }, nodeKey: (n) => this.keys.position.get(n)! };
  }

  private blockArgs(b: Block, inputs: ops.Tensor[], params: TensorTree, state: TensorTree, training: boolean, key: number | undefined): BlockArgs {
    return {
      session: this.session,
      nodes: b.nodes.map((n) => this.keys.node.get(n)!),
      inputs: b.inputs.map(this.keys.value),
      outputs: b.outputs.map(this.keys.value),
      values: inputs.map(toWire),
      params: leaves(subtree(params, b.layers)).map(([p, t]) => [p, toWire(t)]),
      state: leaves(subtree(state, b.layers)).map(([p, t]) => [p, toWire(t)]),
      training,
      key,
    };
  }

  private async open(): Promise<void> {
    const config = this.model.toJSON();
    await Promise.all([...this.devices.values()].map((d) => d.call(placementWorker, 'open', { session: this.session, config, setup: [...this.setup] })));
  }
}

function zerosLikeParam(params: TensorTree, path: string): ops.Tensor {
  return ops.zerosLike(new Map(leaves(params)).get(path)!);
}
