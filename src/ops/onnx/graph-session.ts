/**
 * Which binding runs compiled graphs: rxkeras's own addon where it loads
 * (no copy of the outputs), else onnxruntime-node's. Both run the same
 * ONNX Runtime library with the same options, so they give the same numbers.
 */
import type { HostArray } from '../compiled/trace.js';
import { NativeSession, ortAddon, type Port } from './native-session.js';
import { OrtSession, type SessionOptions } from './session.js';

/** One compiled graph, ready to run synchronously (see OrtSession.run and NativeSession.run). */
export interface GraphSession {
  run(inputs: readonly { data: HostArray; dtype: string; shape: readonly number[] }[], into?: readonly ({ data: Float32Array; shape: readonly number[] } | undefined)[]): HostArray[];
  dispose(): void;
  readonly disposed: boolean;
}

/** A session for `model` on the binding in use. */
export function openSession(model: Uint8Array, inputs: readonly Port[], outputs: readonly Port[], options: SessionOptions): GraphSession {
  const addon = ortAddon();
  const names = (ports: readonly Port[]) => ports.map((p) => p.name);
  if (typeof addon === 'string') return new OrtSession(model, names(inputs), names(outputs), options);
  return new NativeSession(addon, model, inputs, outputs, options);
}

/** The binding in use, for initBackend's report: `rxkeras's addon`, or `onnxruntime-node` and why. */
export function ortBinding(): string {
  const addon = ortAddon();
  return typeof addon === 'string' ? `onnxruntime-node's binding; ${addon}` : "rxkeras's addon";
}
