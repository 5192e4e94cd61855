/**
 * `npm run bench:cpu`: CPU milliseconds per training step, single-threaded on
 * both sides, for the bench's MLP and CNN (bench/cases.ts): rxkeras with
 * compiled steps on one ONNX Runtime intra-op thread, and PyTorch with
 * torch.set_num_threads(1) and OPENBLAS_NUM_THREADS=1 on the same data.
 * CPU time (process.cpuUsage, time.process_time) hardly moves with other
 * processes' load, where wall-clock samples/s does, so this is the figure to
 * compare on a busy machine. Also prints how rxkeras's step splits into
 * ONNX Runtime's run and the rest (JavaScript, the optimizer update).
 * PROBE_EPOCHS (default 3) sets the timed epochs, after one warm-up epoch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import * as rx from '../src/index.js';
import { caseData, cases, runPytorch, type Case } from './cases.js';
import { timeOrtRuns } from './ort-runs.js';

process.env.RXKERAS_COMPILED_THREADS = '1';
await rx.initBackend({ backend: 'compiled' });
const EPOCHS = Number(process.env.PROBE_EPOCHS ?? 3);

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

// CPU time inside ONNX Runtime's run (its one intra-op thread is the caller's).
const ort = timeOrtRuns(() => cpuMs(process.cpuUsage()));

// Collections during the timed epochs, full and minor: a run that falls into a regime of one full collection every
// few steps is far slower (issue 10's notes); the minor ones count what the step still allocates.
const gcs = { full: 0, minor: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as { detail?: { kind?: number } }).detail?.kind; // perf_hooks' NODE_PERFORMANCE_GC_MAJOR (4) and _MINOR (1)
    if (kind === 4) gcs.full++;
    else if (kind === 1) gcs.minor++;
  }
}).observe({ entryTypes: ['gc'] });

async function probeRxkeras(m: Case, x: tf.Tensor, y: tf.Tensor): Promise<{ step: number; ort: number; gcs: { full: number; minor: number } }> {
  const model = new rx.Sequential({ layers: m.rxkeras() });
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' }, 1);
  await model.fit(x, y, { batchSize: m.batchSize, epochs: 1, verbose: 0 }); // compile and warm up
  ort.ms = 0;
  const start = process.cpuUsage();
  const before = { ...gcs };
  await model.fit(x, y, { batchSize: m.batchSize, epochs: EPOCHS, verbose: 0 });
  const steps = EPOCHS * Math.ceil(m.samples / m.batchSize);
  const step = cpuMs(process.cpuUsage(start)) / steps;
  await new Promise((resolve) => setTimeout(resolve, 10)); // the observer reports asynchronously
  model.dispose();
  return { step, ort: ort.ms / steps, gcs: { full: gcs.full - before.full, minor: gcs.minor - before.minor } };
}

function probePytorch(m: Case, dir: string): number | undefined {
  return runPytorch<{ cpu_ms_per_step: number }>(m, dir, EPOCHS, 1, { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' })?.cpu_ms_per_step;
}

const dir = mkdtempSync(join(tmpdir(), 'rxkeras-probe-'));
try {
  for (const m of cases) {
    const { x, y } = caseData(m, dir);
    const ours = await probeRxkeras(m, x, y);
    const torch = probePytorch(m, dir);
    console.log(
      `${m.name} cpu ms per step: rxkeras ${ours.step.toFixed(2)} (ONNX Runtime run ${ours.ort.toFixed(2)}, rest ${(ours.step - ours.ort).toFixed(2)}; ${ours.gcs.full} full GCs, ${ours.gcs.minor} minor)` +
        (torch === undefined ? '' : `, pytorch ${torch.toFixed(2)}; pytorch/rxkeras cpu ratio: ${(torch / ours.step).toFixed(2)}`),
    );
    tf.dispose([x, y]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
