/**
 * `npm run bench:profile`: where a compiled training step's time goes. Trains
 * the bench's MLP and CNN (`npm run bench`) for a few steps with compiled
 * steps and ONNX Runtime's own profiler on, then prints per step: the
 * JavaScript time (tracing and replay, the fit loop), the time in ONNX
 * Runtime's run, and ONNX Runtime's per-operator table (kernel time summed
 * over the step's graph, by op type). Profiles are written to a temporary
 * folder and removed. PROFILE_MLP_BATCH and PROFILE_CNN_BATCH set the
 * batches (128 and 64, as `npm run bench`): a data-parallel replica of two
 * steps on half of them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as rx from '../src/index.js';
import { compiledBackend } from '../src/ops/compiled/index.js';
import { timeOrtRuns } from './ort-runs.js';

await rx.initBackend({ backend: 'compiled' });
const STEPS = Number(process.env.PROFILE_STEPS ?? 30);
const backend = compiledBackend();
const dir = mkdtempSync(join(tmpdir(), 'rxkeras-profile-'));

const models: Record<string, { batch: number; shape: number[]; layers: () => rx.Layer[] }> = {
  mlp: {
    batch: Number(process.env.PROFILE_MLP_BATCH ?? 128),
    shape: [784],
    layers: () => [rx.Dense({ units: 512, activation: 'relu', input_shape: [784] }), rx.Dense({ units: 512, activation: 'relu' }), rx.Dense({ units: 10, activation: 'softmax' })],
  },
  cnn: {
    batch: Number(process.env.PROFILE_CNN_BATCH ?? 64),
    shape: [28, 28, 1],
    layers: () => [
      rx.Conv2D({ filters: 32, kernel_size: 3, activation: 'relu', input_shape: [28, 28, 1] }), rx.MaxPooling2D({}),
      rx.Conv2D({ filters: 64, kernel_size: 3, activation: 'relu' }), rx.MaxPooling2D({}), rx.Flatten({}),
      rx.Dense({ units: 128, activation: 'relu' }), rx.Dense({ units: 10, activation: 'softmax' }),
    ],
  },
};

// Time spent inside ONNX Runtime's run, measured around the binding call.
const ort = timeOrtRuns(() => performance.now());

try {
  for (const [name, m] of Object.entries(models)) {
    const x = tf.randomUniform([m.batch * STEPS, ...m.shape], 0, 1, 'float32', 1);
    const y = tf.cast(tf.oneHot(tf.randomUniform([m.batch * STEPS], 0, 10, 'int32', 2), 10), 'float32');
    const model = new rx.Sequential({ layers: m.layers() });
    model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' }, 1);
    await model.fit(x, y, { batchSize: m.batch, epochs: 1, verbose: 0 }); // compile and warm up
    backend.sessionOptions = { profilePrefix: join(dir, `${name}-`) };
    ort.ms = 0;
    const start = performance.now();
    await model.fit(x, y, { batchSize: m.batch, epochs: 1, verbose: 0 }); // fit frees its sessions, which writes the profiles
    const total = (performance.now() - start) / STEPS;
    backend.sessionOptions = {};
    const ortStep = ort.ms / STEPS;
    console.log(`${name} batch ${m.batch}: ${total.toFixed(2)} ms per step = ONNX Runtime run ${ortStep.toFixed(2)} ms + JavaScript ${(total - ortStep).toFixed(2)} ms (tracing the update, replaying the gradient step, the fit loop)`);
    const byOp = new Map<string, { us: number; n: number }>();
    let runs = 0;
    for (const file of readdirSync(dir).filter((f) => f.startsWith(`${name}-`))) {
      const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cat?: string; name: string; dur: number; args?: { op_name?: string } }[];
      const fileRuns = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').length;
      if (fileRuns < STEPS / 2) continue; // the training graph, not validation or the last batch
      runs += fileRuns;
      for (const e of events)
        if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) {
          const op = e.args?.op_name ?? '?';
          const s = byOp.get(op) ?? { us: 0, n: 0 };
          s.us += e.dur;
          s.n++;
          byOp.set(op, s);
        }
    }
    const rows = [...byOp].sort((a, b) => b[1].us - a[1].us);
    const sum = rows.reduce((a, [, s]) => a + s.us, 0);
    console.log(`${name}: ONNX Runtime kernels ${(sum / runs / 1000).toFixed(2)} ms per step, by op (ms per step, calls per step):`);
    for (const [op, s] of rows.slice(0, 14)) console.log(`  ${op.padEnd(16)} ${(s.us / runs / 1000).toFixed(3).padStart(8)} ms  x${Math.round(s.n / runs)}`);
    model.dispose();
    tf.dispose([x, y]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
