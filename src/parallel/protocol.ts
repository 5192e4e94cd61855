/**
 * The messages between the main thread and a device's worker, the same over
 * a worker thread's port and a child process's IPC channel (structured
 * clone: typed arrays travel as they are).
 */

/** How a device's worker starts: its name, backend and threads. */
export interface WorkerConfig {
  device: string;
  backend: 'compiled' | 'wasm' | 'cpu' | 'tensorflow' | 'tensorflow-gpu';
  /** wasm threads inside this worker. */
  threads: number;
}

/** Main -> worker: call `fn`, exported by `module`, with `args`. */
export interface CallMessage {
  kind: 'call';
  id: number;
  module: string;
  fn: string;
  args: unknown;
}

/** Worker -> main, once: the backend is up (or failed to start). */
export type ReadyMessage = { kind: 'ready'; backend: string } | { kind: 'ready'; error: SerializedError };

/** Worker -> main: a call's result. */
export type ReplyMessage = { kind: 'reply'; id: number; value: unknown } | { kind: 'reply'; id: number; error: SerializedError };

/** Either way: a collective operation relayed through the main thread (members in child processes). */
export interface RelayMessage {
  kind: 'relay';
  group: number;
  rank: number;
  seq: number;
  op: 'allReduce' | 'broadcast' | 'barrier';
  root?: number;
  buffer?: Float32Array;
  /** Main -> worker only: why the operation failed, and the member that was lost (-1: none known). */
  error?: SerializedError;
  lostRank?: number;
}

export type HostMessage = CallMessage | RelayMessage;
export type WorkerMessage = ReadyMessage | ReplyMessage | RelayMessage;

/** An error as it crosses to the other side: its class name, message and stack, and whether memory ran out. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  outOfMemory: boolean;
  /** The fields of a typed error (CollectiveError's lostRank, ...). */
  fields?: Record<string, unknown>;
}

export function serializeError(e: unknown): SerializedError {
  const error = e instanceof Error ? e : new Error(String(e));
  const fields: Record<string, unknown> = {};
  const plain = (v: unknown) => ['string', 'number', 'boolean'].includes(typeof v);
  for (const [k, v] of Object.entries(error)) if (plain(v) || (Array.isArray(v) && v.every(plain))) fields[k] = v;
  return { name: error.name, message: error.message, stack: error.stack, outOfMemory: isOutOfMemory(error), fields };
}

/** A JavaScript heap, typed-array or wasm-heap allocation failure (tfjs wasm says "Failed to allocate"; V8 throws RangeError). */
function isOutOfMemory(e: Error): boolean {
  // A failed malloc in tfjs-wasm surfaces as a trap: "memory access out of bounds".
  return /out of memory|failed to allocate|allocation failed|array buffer allocation|invalid typed array length|memory access out of bounds/i.test(e.message);
}
