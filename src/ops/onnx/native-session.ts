/**
 * ONNX Runtime sessions through rxkeras's own optional addon
 * (native/ort-session, over the C API of the libonnxruntime.so.1 that
 * onnxruntime-node ships). A run reads its inputs in place and writes every
 * output straight into the caller's arrays (the fused update's heap for the
 * gradients, fresh arrays for the rest): none of onnxruntime-node's copies of
 * the outputs, which cost the copy and can drive V8 into collecting the
 * whole heap every few steps.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { nativeDir } from '../native-dir.js';
import type { HostArray } from '../compiled/trace.js';
import { HeldSession } from './held-session.js';
import { ortVersion, type SessionOptions } from './session.js';

/** A graph input or output as the session declares it. */
export interface Port {
  name: string;
  dtype: 'float32' | 'int32' | 'bool';
  shape: readonly number[];
}

interface AddonSession {
  run(inputs: readonly HostArray[], outputs: readonly HostArray[]): void;
  endProfiling(): string;
  dispose(): void;
}
interface OrtAddon {
  version: string;
  unavailable?: string;
  /** The ONNX domain of the operators of rxkeras's own that its sessions run (absent from builds before them). */
  customDomain?: string;
  liveSessions(): number;
  /**
   * The fused optimizer updates with AVX2 (see compiled/fused-kernels.ts): native/fused-update's kernels, each with a
   * Uint8Array over the whole memory their byte offsets are into first. Absent where the CPU has no AVX2, and from older builds.
   */
  fusedUpdate?: Record<'sgd' | 'adam' | 'rmsprop', (memory: Uint8Array, ...args: number[]) => void>;
  Session: new (model: Uint8Array, inputs: readonly Port[], outputs: readonly Port[], options: { threads: number; optimization: number; profilePrefix?: string }) => AddonSession;
}

/** Set to a built `rxkeras_ort_session.node` to load that one, or to `off` to use onnxruntime-node's binding. */
export const ORT_ADDON_ENV = 'RXKERAS_ORT_ADDON';

let loaded: OrtAddon | string | undefined;

/** The addon, or why it is not used (one line), loaded once. */
export function ortAddon(): OrtAddon | string {
  return (loaded ??= loadAddon());
}

function loadAddon(): OrtAddon | string {
  const forced = process.env[ORT_ADDON_ENV];
  if (forced === 'off') return `${ORT_ADDON_ENV}=off`;
  const native = nativeDir('ort-session');
  const path = forced || join(native, 'build', 'Release', 'rxkeras_ort_session.node');
  if (!existsSync(path)) {
    const recorded = join(native, 'build', 'unavailable.txt');
    return existsSync(recorded) ? readFileSync(recorded, 'utf8').split('\n')[0] : `the optional ONNX Runtime addon is not built (no ${path}; node ${join(native, 'build.mjs')} builds it)`;
  }
  let addon: OrtAddon;
  try {
    addon = createRequire(import.meta.url)(path) as OrtAddon;
  } catch (error) {
    return `the ONNX Runtime addon ${path} does not load: ${(error as Error).message.split('\n')[0]}`;
  }
  if (addon.unavailable) return `the ONNX Runtime addon: ${addon.unavailable}`;
  if (addon.version !== ortVersion()) return `the ONNX Runtime addon runs ONNX Runtime ${addon.version}, onnxruntime-node is ${ortVersion()} (rebuild it: node ${join(native, 'build.mjs')})`;
  return addon;
}

const LEVELS = { disabled: 0, basic: 1, extended: 2, all: 99 } as const;

const fresh = (p: Port): HostArray => {
  const n = p.shape.reduce((a, b) => a * b, 1);
  return p.dtype === 'float32' ? new Float32Array(n) : p.dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
};

/** One compiled graph on the addon, run synchronously. Dispose it to free its native memory. */
export class NativeSession extends HeldSession<AddonSession> {
  constructor(
    addon: OrtAddon,
    model: Uint8Array,
    inputs: readonly Port[],
    private readonly outputs: readonly Port[],
    options: SessionOptions = {},
  ) {
    const { threads = 0, optimization = 'all', profilePrefix } = options;
    super(new addon.Session(model, inputs, outputs, { threads, optimization: LEVELS[optimization], ...(profilePrefix ? { profilePrefix } : {}) }), Boolean(profilePrefix));
  }

  /**
   * Runs the graph on `inputs` (in the declared order, dtypes and shapes);
   * returns the outputs in order. Output j is written into `into[j]` where
   * given (the declared dtype and shape), else into a new array.
   */
  run(inputs: readonly { data: HostArray }[], into?: readonly ({ data: HostArray } | undefined)[]): HostArray[] {
    const session = this.held();
    const outputs = this.outputs.map((p, j) => into?.[j]?.data ?? fresh(p));
    session.run(inputs.map((x) => x.data), outputs);
    return outputs;
  }
}
