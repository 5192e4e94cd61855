/**
 * An optimizer's whole update of a weight as one pass (the fused update):
 * the compiled step's graph returns the gradients, and a WebAssembly SIMD
 * kernel (native/fused-update) reads each weight, its gradient and its
 * slots once and writes the new weight and slots into regions of its heap,
 * where they stay: the next step's graph reads them without a copy, and the
 * next update reads them in place. ONNX Runtime would run the same update as
 * ~13 separate elementwise kernels per weight, and the binding would copy
 * every new weight and slot out.
 *
 * The kernels compute in float32, operation by operation in the order the
 * traced (eager) transformations do, with the scalars rounded to float32 as
 * tfjs rounds a number it multiplies by: the fused update gives the eager
 * numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { compiledBackend, type CompiledBackend } from './backend.js';
import { sizeOf } from './trace.js';
import type { FusedKernels } from './fused-kernels.js';
import type { WasmHeap } from './wasm-heap.js';

/** One step's update rule with its scalars (as the Keras optimizers compute them in float64 for this step). */
export type FusedRule =
  /** tf.keras SGD: `u = -lr g`; with momentum `mom = momentum mom + u`, step `mom` (Nesterov: `momentum mom + u`). */
  | { kind: 'sgd'; lr: number; momentum?: number; nesterov: boolean }
  /** tf.keras Adam (epsilon hat), `alpha = sqrt(1-b2^t)/(1-b1^t)`; AMSGrad keeps `vhat = max(vhat, v)`. */
  | { kind: 'adam'; lr: number; beta1: number; beta2: number; epsilon: number; alpha: number; amsgrad: boolean }
  /** tf.keras RMSprop; with momentum (epsilon inside the square root) `mom = momentum mom + lr g / sqrt(rms + eps)`, step `-mom`. */
  | { kind: 'rmsprop'; lr: number; rho: number; epsilon: number; centered: boolean; momentum?: number };

/** One weight to update: the weight, its gradient and its slots by Keras's slot names. */
export interface FusedItem {
  param: tf.Tensor;
  grad: tf.Tensor;
  slots: Record<string, tf.Tensor>;
}

/** The slots a rule reads and writes, by Keras's slot names. */
export function fusedSlotNames(rule: FusedRule): string[] {
  switch (rule.kind) {
    case 'sgd': return rule.momentum !== undefined ? ['momentum'] : [];
    case 'adam': return rule.amsgrad ? ['m', 'v', 'vhat'] : ['m', 'v'];
    case 'rmsprop': return ['rms', ...(rule.momentum !== undefined ? ['momentum'] : []), ...(rule.centered ? ['mg'] : [])];
  }
}

/** Why fused updates are unavailable here (the kernels were not built), or undefined when they are available. */
export function fusedUnavailable(): string | undefined {
  const heap = compiledBackend().heap();
  return typeof heap === 'string' ? heap : undefined;
}

/** The region a float32 tensor is in: its own heap region, or a scratch region it is copied into (freed after the kernel). */
function regionOf(backend: CompiledBackend, heap: WasmHeap, t: tf.Tensor, scratch: number[]): number {
  const v = backend.valueIfPresent(t.dataId);
  if (v?.heapOffset !== undefined && v.shape.join() === t.shape.join()) return v.heapOffset;
  const data = v ? backend.valueData(v) : t.dataSync();
  if (!(data instanceof Float32Array)) throw new TypeError(`fusedApply: a float32 tensor expected, got ${t.dtype}`);
  const offset = heap.take(data.length);
  scratch.push(offset, data.length);
  heap.view(offset, data.length).set(data);
  return offset;
}

/**
 * One weight's update under `rule` by `k` (the kernels over some memory):
 * `n` floats at byte offsets of that memory, slots by name; the outputs may
 * be the inputs (an update in place). `g` is the gradient's region, or two
 * regions whose sum is the gradient (added as the kernel reads them).
 */
export function runFusedRule(k: FusedKernels, rule: FusedRule, n: number, p: number, g: number | readonly [number, number], s: Record<string, number>, pOut: number, out: Record<string, number>): void {
  const f = Math.fround;
  const [g1, g2, two] = typeof g === 'number' ? [g, 0, 0] : [g[0], g[1], 1];
  if (rule.kind === 'sgd') {
    const m = rule.momentum !== undefined;
    k.sgd(p, g1, g2, s.momentum ?? 0, pOut, out.momentum ?? 0, n, f(-rule.lr), f(rule.momentum ?? 0), m ? 1 : 0, rule.nesterov ? 1 : 0, two);
  } else if (rule.kind === 'adam') {
    const { beta1: b1, beta2: b2 } = rule;
    k.adam(p, g1, g2, s.m, s.v, s.vhat ?? 0, pOut, out.m, out.v, out.vhat ?? 0, n,
      f(b1), f(1 - b1), f(b2), f(1 - b2), f(rule.alpha), f(rule.epsilon), f(-rule.lr), rule.amsgrad ? 1 : 0, two);
  } else {
    const m = rule.momentum !== undefined;
    k.rmsprop(p, g1, g2, s.rms, s.mg ?? 0, s.momentum ?? 0, pOut, out.rms, out.mg ?? 0, out.momentum ?? 0, n,
      f(rule.rho), f(1 - rule.rho), f(rule.epsilon), f(rule.lr), f(-rule.lr), f(rule.momentum ?? 0), rule.centered ? 1 : 0, m ? 1 : 0, two);
  }
}

/**
 * Every weight's update under `rule`: for each item the new weight and slots
 * (by the names of {@link fusedSlotNames}) as new tensors on the compiled
 * backend; the inputs are only read, and pending ones (the gradients) are
 * computed first. Undefined, with nothing made, when the kernels are
 * unavailable or their memory cannot grow.
 */
export function fusedApply(rule: FusedRule, items: FusedItem[]): { param: tf.Tensor; slots: Record<string, tf.Tensor> }[] | undefined {
  const backend = compiledBackend();
  const heap = backend.heap();
  if (typeof heap === 'string') return undefined;
  const names = fusedSlotNames(rule);
  // The step's graph writes the gradients into heap regions (no copy in), and runs before the heap may grow here.
  const grads = items.map((it) => backend.valueIfPresent(it.grad.dataId));
  for (const v of grads) if (v && !v.data && v.dtype === 'float32') v.toHeap = true;
  for (const v of grads) if (v) backend.valueData(v);
  const made: { n: number; shape: number[]; p: number; out: Record<string, number> }[] = [];
  const scratch: number[] = [];
  try {
    for (const it of items) {
      const n = sizeOf(it.param.shape);
      const out = Object.fromEntries(names.map((k) => [k, heap.take(n)]));
      const pOut = heap.take(n);
      made.push({ n, shape: [...it.param.shape], p: pOut, out });
      const s = Object.fromEntries(names.map((k) => [k, regionOf(backend, heap, it.slots[k], scratch)]));
      runFusedRule(heap.kernels, rule, n, regionOf(backend, heap, it.param, scratch), regionOf(backend, heap, it.grad, scratch), s, pOut, out);
      for (let i = 0; i < scratch.length; i += 2) heap.release(scratch[i], scratch[i + 1]);
      scratch.length = 0;
    }
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    for (let i = 0; i < scratch.length; i += 2) heap.release(scratch[i], scratch[i + 1]);
    for (const m of made) for (const offset of [m.p, ...Object.values(m.out)]) heap.release(offset, m.n);
    return undefined;
  }
  return made.map((m) => ({
    param: backend.adoptHeap(heap, m.p, m.shape),
    slots: Object.fromEntries(names.map((k) => [k, backend.adoptHeap(heap, m.out[k], m.shape)])),
  }));
}
