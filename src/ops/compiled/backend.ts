/**
 * The compiled backend: a tfjs backend whose kernels compute nothing. Each
 * kernel call (tfjs's tape included, so the backward pass too) records a
 * node and infers its output shape; the first read of a pending value, or
 * the end of a `compiled` region, cuts the recorded nodes into one graph,
 * which is lowered to ONNX, compiled once per structure by ONNX Runtime and
 * run natively. Concrete values are typed arrays handed to ONNX Runtime
 * without a copy; tfjs moves them to another backend only when a kernel
 * there needs them (materialisation on demand).
 */
import * as tf from '@tensorflow/tfjs-core';
import { CompiledRunError, MissingLoweringError } from './errors.js';
import { kernelSpecs, type KernelSpec } from './kernels/index.js';
import { ProgramCache } from './program-cache.js';
import { availableParallelism } from 'node:os';
import { loadOrt, type SessionOptions } from '../onnx/session.js';
import { WasmHeap } from './wasm-heap.js';
import type { GraphSession } from '../onnx/graph-session.js';
import { concreteValue, hostArray, pendingValue, sizeOf, type HostArray, type TraceNode, type TraceValue } from './trace.js';

/** The tfjs name of the compiled backend. */
export const COMPILED_BACKEND = 'rxkeras-compiled';

/** Host constants up to this many elements are baked into graphs (until seen varying); larger ones are fed. */
const BAKE_MAX = 16;

/** Whether a flush may bake `v` into a graph (a small host constant) instead of feeding it. */
export const bakeable = (v: TraceValue): boolean => v.hostConstant && sizeOf(v.shape) <= BAKE_MAX;

type DataId = object;

/** One graph a flush ran: its session, the values fed in order, and the values it computed, in order. */
export interface RecordedRun {
  session: GraphSession;
  feeds: TraceValue[];
  outputs: TraceValue[];
}

export class CompiledBackend extends tf.KernelBackend {
  private readonly data = new tf.DataStorage<TraceValue>(this, tf.engine());
  private nodes: TraceNode[] = [];
  private readonly live = new Set<TraceValue>();
  readonly cache = new ProgramCache(() => ({ threads: this.threads, ...this.sessionOptions }));
  private heapOrWhy: WasmHeap | string | undefined;
  sessionOptions: SessionOptions = {};
  /** ONNX Runtime's intra-op threads: RXKERAS_COMPILED_THREADS, else one per core. */
  readonly threads = Number(process.env.RXKERAS_COMPILED_THREADS) || availableParallelism();
  /** Graphs run so far (for tests and the bench). */
  runs = 0;
  /** Flushes so far: a trace that saw one was cut in two. */
  flushes = 0;
  /** Whether a compiled region is running (the backend is tfjs's active one). */
  active = false;
  /** Releases of lent data disposed while a trace (that may read them) was pending: run once it is flushed or discarded. */
  private releases: (() => void)[] = [];
  /** While set (see StepPlan.capture), each flush that runs a graph records what it ran here. */
  recorded: RecordedRun[] | undefined;

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): DataId {
    const id = {};
    this.data.set(id, concreteValue(hostArray(dtype, values as HostArray, sizeOf(shape)), shape, dtype, true));
    return id;
  }

  override move(dataId: DataId, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    const v = concreteValue(hostArray(dtype, values as HostArray, sizeOf(shape)), shape, dtype, false);
    v.refCount = refCount;
    this.data.set(dataId, v);
  }

  override refCount(dataId: DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }

  override incRef(dataId: DataId): void {
    this.data.get(dataId).refCount++;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const v = this.data.get(dataId);
    if (!force && --v.refCount > 0) return false;
    this.data.delete(dataId);
    this.live.delete(v);
    if (v.heapOffset !== undefined) {
      const heap = this.heapOrWhy as WasmHeap;
      heap.untrack(v);
      heap.release(v.heapOffset, sizeOf(v.shape));
    }
    if (v.release) {
      if (this.nodes.length > 0) this.releases.push(v.release);
      else v.release();
      v.release = undefined;
    }
    return true;
  }

  override readSync(dataId: DataId): tf.backend_util.BackendValues {
    const v = this.data.get(dataId);
    // tfjs hands the array itself to the reader, who may keep it: a view of the heap (reused, detached by growth) is copied,
    // and so are lent data (they go back to their owner).
    return v.heapOffset !== undefined || v.release ? v.data!.slice() : this.valueData(v);
  }

  /** A value's data, computing the pending trace first if needed; not lent out (for host kernels of this backend). */
  valueData(v: TraceValue): HostArray {
    if (!v.data) {
      if (!v.node) throw new CompiledRunError('read of a value whose trace failed');
      this.flush();
    }
    return v.data!;
  }

  /** The fused-update kernels and their heap, or why they are unavailable (loaded on first use). */
  heap(): WasmHeap | string {
    return (this.heapOrWhy ??= WasmHeap.load());
  }

  /** A float32 tensor over a heap region (a fused kernel's output); the region is freed with the tensor. */
  adoptHeap(heap: WasmHeap, offset: number, shape: number[]): tf.Tensor {
    const v = concreteValue(heap.view(offset, sizeOf(shape)), shape, 'float32', false);
    v.heapOffset = offset;
    heap.track(v);
    return this.adopt(v);
  }

  override read(dataId: DataId): Promise<tf.backend_util.BackendValues> {
    return Promise.resolve(this.readSync(dataId));
  }

  override numDataIds(): number {
    return this.data.numDataIds();
  }

  override memory(): { unreliable: boolean; reasons: string[] } {
    return { unreliable: true, reasons: ['the compiled backend does not count bytes'] };
  }

  override floatPrecision(): 32 {
    return 32;
  }

  override epsilon(): number {
    return 1e-7;
  }

  override timerAvailable(): boolean {
    return false;
  }

  override dispose(): void {
    this.cache.clear();
  }

  /** Records one kernel call; returns its pending outputs. */
  record(spec: KernelSpec, inputs: tf.NamedTensorInfoMap | tf.TensorInfo[], attrs: Record<string, unknown>): tf.TensorInfo[] {
    let names = spec.inputs;
    if (spec.optional && names !== 'list') {
      names = names.filter((n) => (inputs as tf.NamedTensorInfoMap)[n] != null || !spec.optional!.includes(n));
      attrs = { ...attrs, _present: names };
    }
    const infos = names === 'list' ? (Array.isArray(inputs) ? inputs : Object.values(inputs)) : names.map((n) => (inputs as tf.NamedTensorInfoMap)[n]);
    const values = infos.map((info, i) => {
      if (!info) throw new MissingLoweringError(spec.name, `input ${names === 'list' ? i : names[i]} missing`);
      return this.traced(info);
    });
    let metas;
    try {
      metas = spec.infer(values, attrs);
    } catch (error) {
      throw error instanceof MissingLoweringError ? error : new MissingLoweringError(spec.name, (error as Error).message);
    }
    const outputs = metas.map((m, k) => {
      const v = pendingValue(m.shape, m.dtype);
      v.outIndex = k;
      return v;
    });
    const node: TraceNode = { kernel: spec.name, attrs, inputs: values, outputs, signature: `${spec.name}${JSON.stringify(attrs)}` };
    for (const v of outputs) {
      v.node = node;
      this.live.add(v);
    }
    this.nodes.push(node);
    return outputs.map((v) => {
      const dataId = {};
      this.data.set(dataId, v);
      return { dataId, shape: v.shape, dtype: v.dtype };
    });
  }

  /** The traced value of a tensor (moved in from another backend if it lives there). */
  traced(info: tf.TensorInfo): TraceValue {
    const v = this.data.get(info.dataId);
    // Eager backends alias reshapes: data moved in keeps the shape its first tensor had.
    if (v.data && v.shape.join() !== info.shape.join()) {
      const alias = concreteValue(v.data, [...info.shape], v.dtype, v.hostConstant);
      alias.aliasOf = v;
      return alias;
    }
    return v;
  }

  /** The value behind a data id, if this backend holds it. */
  valueIfPresent(dataId: DataId): TraceValue | undefined {
    return this.data.has(dataId) ? this.data.get(dataId) : undefined;
  }

  /** The nodes recorded since the trace had `start` of them. */
  nodesSince(start: number): TraceNode[] {
    return this.nodes.slice(start);
  }

  /** Appends a node made without tfjs (a replayed trace); its outputs become tensors through `adopt`. */
  append(node: TraceNode): void {
    this.nodes.push(node);
  }

  /** A tfjs tensor over a value (pending ones are computed at the next flush). */
  adopt(v: TraceValue): tf.Tensor {
    const dataId = {};
    v.refCount = 1;
    this.data.set(dataId, v);
    if (!v.data) this.live.add(v);
    return tf.engine().makeTensorFromTensorInfo({ dataId, shape: v.shape, dtype: v.dtype }, this);
  }

  /**
   * A tensor over `data`, which its owner lends (a buffer it reuses): adopted
   * without a copy and fed to graphs as is; `release` is called once the
   * backend no longer reads it (the tensor disposed, or its data moved to
   * another backend, which gets a copy). `data` may be a view of a
   * SharedArrayBuffer (a reader thread's slot).
   */
  lend(data: HostArray, shape: number[], dtype: tf.DataType, release: () => void): tf.Tensor {
    const v = concreteValue(data, shape, dtype, false);
    v.release = release;
    return this.adopt(v);
  }

  private runReleases(): void {
    const releases = this.releases;
    this.releases = [];
    for (const release of releases) release();
  }

  /** Computes every pending value still referenced: one graph, compiled once per structure. */
  flush(): void {
    this.flushes++;
    if (this.live.size === 0) {
      this.nodes = [];
      this.runReleases();
      return;
    }
    const outputs = [...this.live].sort((a, b) => a.id - b.id);
    const needed = new Set<TraceNode>();
    const stack = outputs.map((v) => v.node!);
    while (stack.length) {
      const n = stack.pop()!;
      if (needed.has(n)) continue;
      needed.add(n);
      for (const v of n.inputs) if (v.node && !v.data) stack.push(v.node);
    }
    const nodes = this.nodes.filter((n) => needed.has(n));
    const ref = new Map<TraceValue, string>();
    const inputs: TraceValue[] = [];
    const constants: TraceValue[] = [];
    const parts: string[] = [];
    nodes.forEach((n, ni) => {
      const ins = n.inputs.map((v) => {
        let r = ref.get(v);
        if (r === undefined) {
          if (!v.data) throw new CompiledRunError(`a pending input of ${n.kernel} belongs to no recorded node`);
          const constant = bakeable(v);
          const list = constant ? constants : inputs;
          r = `${constant ? 'c' : 'i'}${list.length}`;
          list.push(v);
          ref.set(v, r);
          return `${r}:${v.dtype}[${v.shape}]`;
        }
        return r;
      });
      n.outputs.forEach((o, k) => ref.set(o, `n${ni}.${k}`));
      parts.push(`${n.signature}(${ins.join(',')})`);
    });
    parts.push(outputs.map((o) => ref.get(o)).join(','));
    this.nodes = [];
    this.live.clear();
    let result: HostArray[];
    const regions = this.heapRegions(outputs);
    try {
      const { session, feeds } = this.cache.session(parts.join(';'), { nodes, inputs, outputs }, constants);
      const heap = this.heapOrWhy as WasmHeap;
      const preallocated = regions.map((offset, j) => {
        const { into, shape } = outputs[j];
        return offset !== undefined ? { data: heap.view(offset, sizeOf(shape)), shape } : into ? { data: into, shape } : undefined;
      });
      result = session.run(feeds.map((v) => ({ data: (v.aliasOf ?? v).data!, dtype: v.dtype, shape: v.shape })), preallocated);
      this.recorded?.push({ session, feeds, outputs });
      regions.forEach((offset, j) => {
        const o = outputs[j];
        if (offset !== undefined) {
          result[j] = preallocated[j]!.data;
          o.heapOffset = offset;
          heap.track(o);
        } else if (o.into) {
          // The caller's array: reads copy it, as they copy any lent data.
          result[j] = o.into;
          o.release = () => {};
        }
      });
    } catch (error) {
      regions.forEach((offset, j) => offset !== undefined && (this.heapOrWhy as WasmHeap).release(offset, sizeOf(outputs[j].shape)));
      for (const o of outputs) o.node = undefined;
      if (error instanceof MissingLoweringError) throw error;
      throw new CompiledRunError(`ONNX Runtime could not run a traced graph of ${nodes.length} nodes: ${(error as Error).message}`);
    }
    this.runs++;
    outputs.forEach((o, j) => {
      o.data = result[j];
      o.node = undefined;
    });
    this.runReleases();
  }

  /**
   * Heap regions for the outputs marked `toHeap`, all taken before any view
   * is made (taking may grow the memory); none when the memory cannot grow
   * (those outputs are then copied out as the others are).
   */
  private heapRegions(outputs: TraceValue[]): (number | undefined)[] {
    const heap = this.heapOrWhy;
    const regions: (number | undefined)[] = outputs.map(() => undefined);
    if (!(heap instanceof WasmHeap)) return regions;
    try {
      outputs.forEach((o, j) => o.toHeap && !o.into && (regions[j] = heap.take(sizeOf(o.shape))));
      return regions;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      regions.forEach((offset, j) => offset !== undefined && heap.release(offset, sizeOf(outputs[j].shape)));
      return outputs.map(() => undefined);
    }
  }

  /** Forgets the recorded nodes of a region that failed; its pending values can no longer be read. */
  discard(): void {
    for (const v of this.live) v.node = undefined;
    this.live.clear();
    this.nodes = [];
    this.runReleases();
  }

  /** Pending nodes not yet flushed (0 outside a region). */
  get pendingNodes(): number {
    return this.nodes.length;
  }
}

let registered = false;

/** Registers the backend and its kernels with tfjs (idempotent); returns the instance. */
export function compiledBackend(): CompiledBackend {
  if (!registered) {
    loadOrt();
    registered = true;
    tf.registerBackend(COMPILED_BACKEND, () => new CompiledBackend(), -1);
    for (const spec of kernelSpecs.values())
      tf.registerKernel({
        kernelName: spec.name,
        backendName: COMPILED_BACKEND,
        kernelFunc: ({ inputs, attrs, backend }) => {
          const out = (backend as CompiledBackend).record(spec, inputs, attrs as Record<string, unknown>);
          return spec.multiOutput ? out : out[0];
        },
      });
  }
  return tf.engine().findBackend(COMPILED_BACKEND) as CompiledBackend;
}
