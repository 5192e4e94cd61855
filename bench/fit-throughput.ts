/**
 * `npm run bench`: the same MLP and CNN trained on the same synthetic data,
 * in one run, after a warm-up, in alternating order:
 * - with rxkeras (on the backend initBackend picks: compiled steps on ONNX
 *   Runtime where it loads) and with tfjs-layers' model.fit (on the eager
 *   tfjs backend, wasm here);
 * - with PyTorch on the same CPU: same model, batch, optimizer (Adam, Keras's
 *   defaults) and data. It needs Debian's PyTorch with OpenBLAS (without
 *   libopenblas0-pthread Debian's torch runs on the reference BLAS, ~16x
 *   slower): `apt-get install python3-torch libopenblas0-pthread`. It runs
 *   with OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(cores).
 * Each run times at least 60 steps (the CNN 6 epochs of 10, the MLP 3 of
 * 24; 20 steps swung PyTorch's figure by a third between runs), or
 * BENCH_EPOCHS epochs of every model.
 * Prints samples/s and the ratios `<model> rxkeras/tfjs-layers samples/s
 * ratio: R` and `<model> rxkeras/pytorch samples/s ratio: R`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as rx from '../src/index.js';
import { caseData, cases, runPytorch, type Case } from './cases.js';
import { describeBackend } from '../src/ops/tfjs/backend.js';

await rx.initBackend();
const MIN_STEPS = 60;
const epochsOf = (c: Case) => Number(process.env.BENCH_EPOCHS ?? Math.ceil(MIN_STEPS / Math.ceil(c.samples / c.batchSize)));
const THREADS = availableParallelism();

async function timeRxkeras(c: Case, x: tf.Tensor, y: tf.Tensor): Promise<number> {
  const model = new rx.Sequential({ layers: c.rxkeras() });
  model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' }, 1);
  await model.fit(x, y, { batchSize: c.batchSize, epochs: 1, verbose: 0 }); // warm-up
  const start = performance.now();
  await model.fit(x, y, { batchSize: c.batchSize, epochs: epochsOf(c), verbose: 0 });
  const seconds = (performance.now() - start) / 1000;
  model.dispose();
  return (c.samples * epochsOf(c)) / seconds;
}

async function timeTfjsLayers(c: Case, x: tf.Tensor, y: tf.Tensor): Promise<number> {
  const model = tfl.sequential({ layers: c.tfjs() });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  await model.fit(x, y, { batchSize: c.batchSize, epochs: 1, verbose: 0 }); // warm-up
  const start = performance.now();
  await model.fit(x, y, { batchSize: c.batchSize, epochs: epochsOf(c), verbose: 0 });
  const seconds = (performance.now() - start) / 1000;
  model.dispose();
  return (c.samples * epochsOf(c)) / seconds;
}

/** PyTorch's samples/s on the same data (written as raw float32), or undefined with the reason printed. */
function timePytorch(c: Case, dir: string): number | undefined {
  return runPytorch<{ samples_per_s: number }>(c, dir, epochsOf(c), THREADS, { OPENBLAS_NUM_THREADS: '1' })?.samples_per_s;
}

const mean = (xs: (number | undefined)[]) => (xs.every((v) => v !== undefined) ? (xs as number[]).reduce((a, b) => a + b, 0) / xs.length : undefined);

console.log(`backend: ${describeBackend()}, epochs timed: ${cases.map((c) => `${c.name} ${epochsOf(c)}`).join(', ')}, pytorch threads: ${THREADS}`);
const dir = mkdtempSync(join(tmpdir(), 'rxkeras-bench-'));
try {
  for (const c of cases) {
    const { x, y } = caseData(c, dir);
    // Alternate the order so that neither always runs on a warmer machine.
    const peer1 = await timeTfjsLayers(c, x, y);
    const torch1 = timePytorch(c, dir);
    const ours1 = await timeRxkeras(c, x, y);
    const ours2 = await timeRxkeras(c, x, y);
    const torch2 = torch1 === undefined ? undefined : timePytorch(c, dir);
    const peer2 = await timeTfjsLayers(c, x, y);
    const ours = mean([ours1, ours2])!;
    const peer = mean([peer1, peer2])!;
    const torch = mean([torch1, torch2]);
    console.log(`${c.name} rxkeras ${ours.toFixed(0)} samples/s, tfjs-layers ${peer.toFixed(0)} samples/s${torch ? `, pytorch ${torch.toFixed(0)} samples/s` : ''}`);
    console.log(`${c.name} rxkeras/tfjs-layers samples/s ratio: ${(ours / peer).toFixed(2)}`);
    if (torch) console.log(`${c.name} rxkeras/pytorch samples/s ratio: ${(ours / torch).toFixed(2)}`);
    tf.dispose([x, y]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
