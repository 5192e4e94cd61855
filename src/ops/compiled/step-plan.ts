/**
 * A compiled step run again without tracing, as a CUDA graph replays its
 * kernels: once a step's whole graph ran as one ONNX Runtime session, the
 * next steps call that session with their own arrays, skipping tfjs's
 * dispatch, the trace's replay and the flush. A plan holds only where the
 * graph reads the step's input tensors as fed inputs (none baked into it)
 * or host constants of the replayed trace, and its outputs are the step's
 * output tensors or arrays the caller lent (`into`, written in place). Two
 * captures of consecutive steps must agree (`sameAs`): a constant made
 * again at every step (a random mask) is then a different value, and no
 * plan holds. What else the trace depended on (the compiled setup, host
 * numbers such as a loss scale) the caller keeps unchanged; the plan checks
 * shapes and dtypes, and gives up (undefined) on any change.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bakeable, compiledBackend, type RecordedRun } from './backend.js';
import type { GraphSession } from '../onnx/graph-session.js';
import type { HostArray, TraceValue } from './trace.js';

type Output = { into: Float32Array; shape: number[] } | { index: number };

export class StepPlan {
  private constructor(
    private readonly session: GraphSession,
    /** The input tensors' shapes and dtypes when captured. */
    private readonly inputs: { shape: number[]; dtype: tf.DataType }[],
    /** For each feed: the input tensor it reads (with the shape the graph reads it with, a reshape possibly), or a constant of the trace. */
    private readonly feeds: ({ input: number; shape: number[]; dtype: tf.DataType } | { constant: TraceValue })[],
    private readonly outputs: Output[],
  ) {}

  /**
   * Runs `step` (a compiled step that reads `inputs`) and records the graph
   * it ran; `outputsOf` names the result's tensors the plan must give back.
   * No plan when the step ran several graphs or none (eagerly), or when the
   * graph cannot be run again from the inputs alone.
   */
  static capture<R>(step: () => R, inputs: tf.Tensor[], outputsOf: (result: R) => tf.Tensor[]): { result: R; plan?: StepPlan } {
    const backend = compiledBackend();
    const previous = backend.recorded;
    const recorded: RecordedRun[] = [];
    backend.recorded = recorded;
    let result: R;
    try {
      result = step();
    } finally {
      backend.recorded = previous;
    }
    return { result, plan: recorded.length === 1 ? StepPlan.of(recorded[0], inputs, outputsOf(result)) : undefined };
  }

  private static of(run: RecordedRun, inputs: tf.Tensor[], outputs: tf.Tensor[]): StepPlan | undefined {
    const backend = compiledBackend();
    const valueOf = (t: tf.Tensor) => backend.valueIfPresent(t.dataId);
    const inputOf = new Map<TraceValue, number>();
    for (const [i, t] of inputs.entries()) {
      const v = valueOf(t);
      if (!v) continue; // still on the eager backend: the graph did not read it (a read moves it here)
      // An input that may have been baked into the graph would keep its captured values.
      if (bakeable(v)) return undefined;
      inputOf.set(v, i);
    }
    const feeds: StepPlan['feeds'] = [];
    for (const f of run.feeds) {
      const input = inputOf.get(f.aliasOf ?? f);
      if (input !== undefined) feeds.push({ input, shape: [...f.shape], dtype: f.dtype });
      else if (f.hostConstant && f.data && !f.aliasOf) feeds.push({ constant: f });
      else return undefined; // a value made before the step, or lent by someone else
    }
    const outputOf = new Map<TraceValue, number>();
    for (const [i, t] of outputs.entries()) {
      const v = valueOf(t);
      if (!v) return undefined;
      outputOf.set(v, i);
    }
    const planned: Output[] = [];
    for (const o of run.outputs) {
      const index = outputOf.get(o);
      if (index !== undefined) planned.push({ index });
      else if (o.into) planned.push({ into: o.into, shape: [...o.shape] });
      else return undefined; // a value the caller would not get back (layer state, a gradient in the heap)
    }
    if (outputOf.size !== outputs.length || planned.filter((o) => 'index' in o).length !== outputs.length) return undefined;
    return new StepPlan(run.session, inputs.map((t) => ({ shape: [...t.shape], dtype: t.dtype })), feeds, planned);
  }

  /** Whether `other` runs the same session the same way (a step that repeats). */
  sameAs(other: StepPlan): boolean {
    return (
      this.session === other.session &&
      this.inputs.length === other.inputs.length &&
      this.inputs.every((s, i) => tf.util.arraysEqual(s.shape, other.inputs[i].shape) && s.dtype === other.inputs[i].dtype) &&
      this.feeds.length === other.feeds.length &&
      this.feeds.every((f, i) => {
        const g = other.feeds[i];
        return 'input' in f ? 'input' in g && f.input === g.input : 'constant' in g && f.constant === g.constant;
      }) &&
      this.outputs.length === other.outputs.length &&
      this.outputs.every((o, i) => {
        const p = other.outputs[i];
        return 'into' in o ? 'into' in p && o.into === p.into : 'index' in p && o.index === p.index;
      })
    );
  }

  /**
   * The step on new input tensors (same order, shapes and dtypes as when
   * captured): the output tensors' values, in order, as new arrays (lent
   * arrays are written in place). Undefined, having run nothing, when an
   * input changed shape or dtype, is still pending, or the session was
   * released.
   */
  run(inputs: tf.Tensor[]): HostArray[] | undefined {
    if (this.session.disposed || inputs.length !== this.inputs.length) return undefined;
    if (!inputs.every((t, i) => tf.util.arraysEqual(t.shape, this.inputs[i].shape) && t.dtype === this.inputs[i].dtype)) return undefined;
    const backend = compiledBackend();
    const feeds: { data: HostArray; dtype: string; shape: number[] }[] = [];
    for (const f of this.feeds) {
      if ('constant' in f) {
        feeds.push({ data: f.constant.data!, dtype: f.constant.dtype, shape: f.constant.shape });
        continue;
      }
      const t = inputs[f.input];
      // An input made on the eager backend moves here, as a traced step would move it.
      const data = (backend.valueIfPresent(t.dataId) ?? (tf.engine().moveData(backend, t.dataId), backend.valueIfPresent(t.dataId)))?.data;
      if (!data) return undefined;
      feeds.push({ data, dtype: f.dtype, shape: f.shape });
    }
    const result = this.session.run(feeds, this.outputs.map((o) => ('into' in o ? { data: o.into, shape: o.shape } : undefined)));
    backend.runs++;
    const values: HostArray[] = [];
    this.outputs.forEach((o, j) => 'index' in o && (values[o.index] = result[j]));
    return values;
  }
}
