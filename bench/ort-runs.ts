/**
 * Time spent inside ONNX Runtime's runs, measured around the binding call of
 * either binding (rxkeras's addon or onnxruntime-node's) with `clock`.
 */
import { NativeSession } from '../src/ops/onnx/native-session.js';
import { OrtSession } from '../src/ops/onnx/session.js';

export function timeOrtRuns(clock: () => number): { ms: number } {
  const total = { ms: 0 };
  for (const proto of [OrtSession.prototype, NativeSession.prototype] as { run(...args: unknown[]): unknown }[]) {
    const run = proto.run;
    proto.run = function (this: unknown, ...args: unknown[]) {
      const t = clock();
      try {
        return run.apply(this, args);
      } finally {
        total.ms += clock() - t;
      }
    };
  }
  return total;
}
