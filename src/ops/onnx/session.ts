/**
 * ONNX Runtime's native CPU session, through the synchronous `run` of
 * onnxruntime-node's binding (`dist/binding`: not its public API, which
 * wraps the same call in a promise; hence the exact version pin in
 * package.json). Inputs are handed over without a copy; the binding copies
 * each output into a new ArrayBuffer.
 */
import { createRequire } from 'node:module';
import type { HostArray } from '../compiled/trace.js';
import { HeldSession } from './held-session.js';

interface OrtTensor {
  readonly data: HostArray;
  readonly dims: readonly number[];
}
interface Binding {
  InferenceSession: new () => {
    loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
    run(feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor | null>, options: object): Record<string, OrtTensor>;
    endProfiling(): void;
    dispose(): void;
  };
}
type TensorClass = new (type: string, data: HostArray, dims: readonly number[]) => OrtTensor;

let loaded: { binding: Binding; Tensor: TensorClass } | undefined;

/** Loads the native binding once; throws when the package or its binary is missing. */
export function loadOrt(): { binding: Binding; Tensor: TensorClass } {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const { binding, initOrt } = require('onnxruntime-node/dist/binding') as { binding: Binding; initOrt(): void };
  const { Tensor } = require('onnxruntime-common') as { Tensor: TensorClass };
  initOrt();
  loaded = { binding, Tensor };
  return loaded;
}

/** The version of onnxruntime-node in use. */
export function ortVersion(): string {
  return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
}

export interface SessionOptions {
  /** Intra-op threads (default: the machine's cores). */
  threads?: number;
  /** ONNX Runtime's graph optimisation level (default 'all'). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Writes ONNX Runtime's own per-node profile (a JSON trace) with this file prefix. */
  profilePrefix?: string;
}

const ortTypes: Record<string, string> = { float32: 'float32', int32: 'int32', bool: 'bool' };

/** One compiled graph, ready to run synchronously. Dispose it to free its native memory. */
export class OrtSession extends HeldSession<InstanceType<Binding['InferenceSession']>> {
  private readonly fetches: Record<string, null>;

  constructor(
    model: Uint8Array,
    private readonly inputNames: readonly string[],
    private readonly outputNames: readonly string[],
    options: SessionOptions = {},
  ) {
    const session = new (loadOrt().binding.InferenceSession)();
    session.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
      graphOptimizationLevel: options.optimization ?? 'all',
      intraOpNumThreads: options.threads ?? 0,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      enableCpuMemArena: true,
      enableMemPattern: true,
      ...(options.profilePrefix ? { enableProfiling: true, profileFilePrefix: options.profilePrefix } : {}),
      // Threads that spin between runs steal the cores from JavaScript and from other sessions.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
    super(session, Boolean(options.profilePrefix));
    this.fetches = Object.fromEntries(outputNames.map((n) => [n, null]));
  }

  /**
   * Runs the graph on `inputs` (in `inputNames` order, dtypes and shapes as
   * declared); returns the outputs in order. Output j is written into
   * `into[j]` where given (float32, the declared shape; the binding also
   * returns a copy of it).
   */
  run(inputs: readonly { data: HostArray; dtype: string; shape: readonly number[] }[], into?: readonly ({ data: Float32Array; shape: readonly number[] } | undefined)[]): HostArray[] {
    const session = this.held();
    const { Tensor } = loadOrt();
    const feeds: Record<string, OrtTensor> = {};
    inputs.forEach((x, i) => (feeds[this.inputNames[i]] = new Tensor(ortTypes[x.dtype], x.data, x.shape)));
    let fetches: Record<string, OrtTensor | null> = this.fetches;
    if (into?.some((a) => a)) {
      fetches = { ...this.fetches };
      into.forEach((a, j) => a && (fetches[this.outputNames[j]] = new Tensor('float32', a.data, a.shape)));
    }
    const out = session.run(feeds, fetches, {});
    return this.outputNames.map((n) => out[n].data);
  }
}
