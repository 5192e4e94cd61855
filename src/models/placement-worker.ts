/**
 * The device side of device placement: functions the main thread calls on
 * a device to run one block of a placed model forward, or its
 * vector-Jacobian product (see placement.ts). The device holds its own copy
 * of the model, built from the same config; weights come with every call.
 */
import * as ops from '../ops/index.js';
import { fromLeaves, leaves } from '../core/tree.js';
import type { GraphNode, SymbolicTensor } from '../layers/layer.js';
import { importSetupModules } from '../parallel/setup-modules.js';
import { fromWire, toWire, type WireTensor } from '../parallel/wire.js';
import { blockVjp, graphKeys, runBlock, type BlockArgs, type BlockCall } from './blocks.js';
import { modelFromJSON } from './from-config.js';
import { buildGraph } from './graph.js';
import type { Model } from './model.js';

interface Session {
  model: Model;
  keys: ReturnType<typeof graphKeys>;
  nodes: Map<string, GraphNode>;
}

const sessions = new Map<number, Session>();

export async function open(args: { session: number; config: string; setup: string[] }): Promise<void> {
  await importSetupModules(args.setup);
  const model = modelFromJSON(args.config);
  const keys = graphKeys(buildGraph(model.inputs, model.outputs));
  sessions.set(args.session, { model, keys, nodes: new Map([...keys.node].map(([n, k]) => [k, n])) });
}

export function forward(args: BlockArgs): { outputs: WireTensor[]; state: [string, WireTensor][]; loss: number } {
  return withBlock(args, (call, inputs, params, state) => {
    const r = runBlock(call, inputs, params, state);
    try {
      return { outputs: r.outputs.map(toWire), state: leaves(r.state).map(([p, t]) => [p, toWire(t)]), loss: r.loss ? r.loss.dataSync()[0] : 0 };
    } finally {
      ops.dispose([...r.outputs, ...leaves(r.state).map(([, t]) => t), ...(r.loss ? [r.loss] : [])]);
    }
  });
}

export function vjp(args: BlockArgs & { cotangents: (WireTensor | null)[]; wrt: number[]; trainable: string[] }): { inputs: WireTensor[]; params: [string, WireTensor][] } {
  return withBlock(args, (call, inputs, params, state) => {
    const cot = args.cotangents.map((c) => (c ? fromWire(c) : null));
    try {
      const g = blockVjp(call, inputs, args.wrt, cot, params, args.trainable, state);
      try {
        return { inputs: g.inputs.map(toWire), params: g.params.map(([p, t]) => [p, toWire(t)]) };
      } finally {
        ops.dispose([...g.inputs, ...g.params.map(([, t]) => t)]);
      }
    } finally {
      ops.dispose(cot.filter((c): c is ops.Tensor => c !== null));
    }
  });
}

export function close(args: { session: number }): void {
  const s = sessions.get(args.session);
  if (!s) return;
  sessions.delete(args.session);
  s.model.dispose();
}

function withBlock<R>(args: BlockArgs, f: (call: BlockCall, inputs: ops.Tensor[], params: ReturnType<typeof fromLeaves<ops.Tensor>>, state: ReturnType<typeof fromLeaves<ops.Tensor>>) => R): R {
  const s = sessions.get(args.session);
  if (!s) throw new Error(`no placement session ${args.session} on this device (it was closed, or the device restarted)`);
  const value = (k: string): SymbolicTensor => {
    const t = s.keys.byKey.get(k);
    if (!t) throw new Error(`the model on this device has no value '${k}'`);
    return t;
  };
  const call: BlockCall = {
    nodes: args.nodes.map((k) => s.nodes.get(k)!),
    inputs: args.inputs.map(value),
    outputs: args.outputs.map(value),
    options: { training: args.training, key: args.key },
    nodeKey: (n) => s.keys.position.get(n)!,
  };
  const inputs = args.values.map(fromWire);
  const params = fromLeaves(args.params.map(([p, w]) => [p, fromWire(w)] as [string, ops.Tensor]));
  const state = fromLeaves(args.state.map(([p, w]) => [p, fromWire(w)] as [string, ops.Tensor]));
  try {
    return f(call, inputs, params, state);
  } finally {
    ops.dispose([...inputs, ...leaves(params).map(([, t]) => t), ...leaves(state).map(([, t]) => t)]);
  }
}
