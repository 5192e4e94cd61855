/**
 * Trace once, replay after (jax.jit in spirit) for a pure function of a tree
 * of tensors and numbers, run inside a compiled region. The first call of a
 * signature (the tree's structure, its tensors' shapes and dtypes) is
 * traced through tfjs; the second is traced again and compared with the
 * first: same nodes, same host constants, and random tensors whose seeds
 * the recorded key derivations re-derive from the step and key. Only then
 * are later calls replayed: the recorded nodes are appended to the trace
 * without running the function (no tfjs dispatch, no tape), random tensors
 * made again from the new seeds. A function whose trace depends on
 * anything else stays traced at every call (correct, slower).
 */
import * as tf from '@tensorflow/tfjs-core';
import { compiledBackend, type CompiledBackend } from './backend.js';
import { chainOf, listenToKeys, type Derivation } from './keys.js';
import { listenToRandoms, type RandomSpec } from './random-record.js';
import { pendingValue, type HostArray, type TraceNode, type TraceValue } from './trace.js';

type Ref = { k: 'in'; i: number } | { k: 'const'; i: number } | { k: 'node'; n: number; o: number };

interface Constant {
  value: TraceValue;
  random?: { spec: RandomSpec; chain: Derivation[]; root: number };
}

interface Template {
  nodes: { kernel: string; attrs: Record<string, unknown>; signature: string; inputs: Ref[]; outputs: { shape: number[]; dtype: tf.DataType }[] }[];
  constants: Constant[];
  outputs: Ref[];
  /** The result with its tensors replaced by their index in `outputs`. */
  skeleton: unknown;
  step: number;
  key: number;
}

interface Entry {
  template?: Template;
  calls: number;
  replayable: boolean;
}

export interface JitOptions<I> {
  /** The step count and random key the function derives its randomness from. */
  step(inputs: I): number;
  key(inputs: I): number;
}

const isTensor = (x: unknown): x is tf.Tensor => x instanceof tf.Tensor;

/** The tensors of a tree in a fixed order, and its structure (shapes, dtypes; numbers as '#'). */
function flatten(tree: unknown, out: tf.Tensor[]): unknown {
  if (isTensor(tree)) {
    out.push(tree);
    return `T${tree.shape}:${tree.dtype}`;
  }
  if (Array.isArray(tree)) return tree.map((x) => flatten(x, out));
  if (typeof tree === 'number') return '#';
  if (tree && typeof tree === 'object') return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, flatten(v, out)]));
  return tree;
}

export interface Jitted<I, O> {
  (inputs: I): O;
  /** How many calls were replayed (for tests and the bench). */
  readonly replays: number;
}

/** `fn` traced once per signature and replayed once the trace is known to repeat; call it inside `compiled(...)`. */
export function jit<I, O>(fn: (inputs: I) => O, options: JitOptions<I>): Jitted<I, O> {
  const entries = new Map<string, Entry>();
  let replays = 0;
  const run = (inputs: I): O => {
    const backend = compiledBackend();
    const leaves: tf.Tensor[] = [];
    const signature = JSON.stringify(flatten(inputs, leaves));
    let entry = entries.get(signature);
    if (!entry) entries.set(signature, (entry = { calls: 0, replayable: false }));
    entry.calls++;
    if (entry.replayable) {
      replays++;
      return replay(backend, entry.template!, leaves, options.step(inputs), options.key(inputs));
    }
    const { result, template } = capture(backend, fn, inputs, leaves, options);
    if (entry.calls === 2 && entry.template && template) entry.replayable = repeats(entry.template, template);
    entry.template = template;
    return result;
  };
  return Object.defineProperty(run, 'replays', { get: () => replays }) as Jitted<I, O>;
}

/** Runs `fn` traced and records what it did, or gives no template when its trace cannot be replayed (it was cut by a read). */
function capture<I, O>(backend: CompiledBackend, fn: (inputs: I) => O, inputs: I, leaves: tf.Tensor[], options: JitOptions<I>): { result: O; template?: Template } {
  const inputValues = leaves.map((t) => backend.traced(t));
  const flushes = backend.flushes;
  const start = backend.pendingNodes;
  const { result: r, derivations } = listenToKeys(() => listenToRandoms(() => fn(inputs)));
  const { result, randoms } = r;
  if (backend.flushes !== flushes) return { result };
  const refs = new Map<TraceValue, Ref>();
  inputValues.forEach((v, i) => refs.has(v) || refs.set(v, { k: 'in', i }));
  const constants: Constant[] = [];
  const refOf = (v: TraceValue): Ref | undefined => {
    let ref = refs.get(v);
    if (!ref && v.data) {
      const spec = randoms.get(v) ?? randomForData(randoms, v);
      ref = { k: 'const', i: constants.length };
      const chain = spec ? chainOf(spec.seed, derivations) : [];
      constants.push({ value: v, ...(spec ? { random: { spec, chain, root: chain.length ? chain[0].parent : spec.seed } } : {}) });
      refs.set(v, ref);
    }
    return ref;
  };
  const nodes: Template['nodes'] = [];
  for (const node of backend.nodesSince(start)) {
    const ins: Ref[] = [];
    for (const v of node.inputs) {
      const ref = refOf(v);
      if (!ref) return { result }; // a value pending from before the call
      ins.push(ref);
    }
    node.outputs.forEach((o, j) => refs.set(o, { k: 'node', n: nodes.length, o: j }));
    nodes.push({ kernel: node.kernel, attrs: node.attrs, signature: node.signature, inputs: ins, outputs: node.outputs.map((o) => ({ shape: o.shape, dtype: o.dtype })) });
  }
  const outTensors: tf.Tensor[] = [];
  flatten(result, outTensors);
  const outputs: Ref[] = [];
  for (const t of outTensors) {
    const ref = refOf(backend.traced(t));
    if (!ref) return { result };
    outputs.push(ref);
  }
  return { result, template: { nodes, constants, outputs, skeleton: indexLeaves(result), step: options.step(inputs), key: options.key(inputs) } };
}

/** A reshaped view of a random tensor (a value made for another shape over the same data). */
function randomForData(randoms: Map<TraceValue, RandomSpec>, v: TraceValue): RandomSpec | undefined {
  for (const [r, spec] of randoms) if (r.data === v.data) return spec;
  return undefined;
}

/** The result tree with each tensor replaced by { $: index of the tensor among the leaves }. */
function indexLeaves(tree: unknown): unknown {
  let n = 0;
  const walk = (x: unknown): unknown => {
    if (isTensor(x)) return { $: n++ };
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v)]));
    return x;
  };
  return walk(tree);
}

const sameData = (a: HostArray, b: HostArray) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

/** A seed re-derived for another step and key: the recorded chain with the step fold-in and the root replaced. */
function rederive(c: NonNullable<Constant['random']>, traced: { step: number; key: number }, step: number, key: number): number {
  let k = c.root === traced.key ? key : c.root;
  c.chain.forEach((d, i) => {
    const data = i === 0 && c.root === traced.key && d.data === traced.step ? step : d.data;
    k = d.derive(k, data);
  });
  return k;
}

/** Whether the second trace is the first one again, with randomness derived as recorded. */
function repeats(a: Template, b: Template): boolean {
  if (a.nodes.length !== b.nodes.length || a.constants.length !== b.constants.length) return false;
  if (JSON.stringify(a.outputs) !== JSON.stringify(b.outputs) || JSON.stringify(a.skeleton) !== JSON.stringify(b.skeleton)) return false;
  for (let i = 0; i < a.nodes.length; i++)
    if (a.nodes[i].signature !== b.nodes[i].signature || JSON.stringify(a.nodes[i].inputs) !== JSON.stringify(b.nodes[i].inputs)) return false;
  return a.constants.every((ca, i) => {
    const cb = b.constants[i];
    if (ca.value.shape.join() !== cb.value.shape.join() || ca.value.dtype !== cb.value.dtype) return false;
    if (!ca.random || !cb.random) return !ca.random && !cb.random && sameData(ca.value.data!, cb.value.data!);
    return rederive(ca.random, a, b.step, b.key) === cb.random.spec.seed;
  });
}

/** Appends the template's nodes for new inputs; returns the result with new tensors. */
function replay<O>(backend: CompiledBackend, t: Template, leaves: tf.Tensor[], step: number, key: number): O {
  const inputs = leaves.map((x) => backend.traced(x));
  const constants = t.constants.map((c) => {
    if (!c.random) return c.value;
    const fresh = c.random.spec.regenerate(rederive(c.random, t, step, key));
    const v = backend.traced(fresh);
    fresh.dispose();
    return v.shape.join() === c.value.shape.join() ? v : { ...v, shape: c.value.shape };
  });
  const made: TraceValue[][] = [];
  const valueOf = (r: Ref): TraceValue => (r.k === 'in' ? inputs[r.i] : r.k === 'const' ? constants[r.i] : made[r.n][r.o]);
  for (const n of t.nodes) {
    const outputs = n.outputs.map((m, j) => Object.assign(pendingValue(m.shape, m.dtype), { outIndex: j }));
    const node: TraceNode = { kernel: n.kernel, attrs: n.attrs, signature: n.signature, inputs: n.inputs.map(valueOf), outputs };
    for (const o of outputs) o.node = node;
    backend.append(node);
    made.push(outputs);
  }
  const adopted = new Map<TraceValue, tf.Tensor>();
  const tensors = t.outputs.map((r) => {
    if (r.k === 'in') return leaves[r.i];
    const v = valueOf(r);
    let x = adopted.get(v);
    if (!x) adopted.set(v, (x = backend.adopt(v)));
    return x;
  });
  const build = (x: unknown): unknown => {
    if (x && typeof x === 'object' && '$' in x && Object.keys(x).length === 1) return tensors[(x as { $: number }).$];
    if (Array.isArray(x)) return x.map(build);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, build(v)]));
    return x;
  };
  return build(t.skeleton) as O;
}

const owned = new WeakMap<object, Jitted<any, any>>();

/**
 * `fn` jitted once per `owner` inside a compiled region; `fn` itself
 * outside one. (The first function given for an owner is the one kept: pass
 * the same function for the same owner.)
 */
export function jitted<I, O>(owner: object, fn: (inputs: I) => O, options: JitOptions<I>): (inputs: I) => O {
  if (!compiledBackend().active) return fn;
  let j = owned.get(owner);
  if (!j) owned.set(owner, (j = jit(fn, options)));
  return j;
}
