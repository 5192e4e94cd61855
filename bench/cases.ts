/** The MLP and the CNN the throughput benchmarks train, in rxkeras and in tfjs-layers (same shapes, same batch sizes). */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as rx from '../src/index.js';

export interface Case {
  name: string;
  batchSize: number;
  samples: number;
  inputShape: number[];
  rxkeras: () => rx.Layer[];
  tfjs: () => tfl.layers.Layer[];
}

export const cases: Case[] = [
  {
    name: 'mlp',
    batchSize: 128,
    samples: 128 * 24,
    inputShape: [784],
    rxkeras: () => [
      rx.Dense({ units: 512, activation: 'relu', input_shape: [784] }),
      rx.Dense({ units: 512, activation: 'relu' }),
      rx.Dense({ units: 10, activation: 'softmax' }),
    ],
    tfjs: () => [
      tfl.layers.dense({ units: 512, activation: 'relu', inputShape: [784] }),
      tfl.layers.dense({ units: 512, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  },
  {
    name: 'cnn',
    batchSize: 64,
    samples: 64 * 10,
    inputShape: [28, 28, 1],
    rxkeras: () => [
      rx.Conv2D({ filters: 32, kernel_size: 3, activation: 'relu', input_shape: [28, 28, 1] }),
      rx.MaxPooling2D({}),
      rx.Conv2D({ filters: 64, kernel_size: 3, activation: 'relu' }),
      rx.MaxPooling2D({}),
      rx.Flatten({}),
      rx.Dense({ units: 128, activation: 'relu' }),
      rx.Dense({ units: 10, activation: 'softmax' }),
    ],
    tfjs: () => [
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 128, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  },
];

/**
 * A case's random data (seeded), also written to `<dir>/<name>-x.f32` and
 * `-y.f32` as raw float32 for the PyTorch side.
 */
export function caseData(c: Case, dir: string): { x: tf.Tensor; y: tf.Tensor } {
  const x = tf.randomUniform([c.samples, ...c.inputShape], 0, 1, 'float32', 1);
  const y = tf.cast(tf.oneHot(tf.randomUniform([c.samples], 0, 10, 'int32', 2), 10), 'float32');
  writeFileSync(join(dir, `${c.name}-x.f32`), x.dataSync() as Float32Array);
  writeFileSync(join(dir, `${c.name}-y.f32`), y.dataSync() as Float32Array);
  return { x, y };
}

const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';

/**
 * bench/pytorch_train.py training case `c` on the files {@link caseData}
 * wrote, with `threads` torch threads and `env` added to the environment:
 * its JSON report, or undefined with the reason printed.
 */
export function runPytorch<R>(c: Case, dir: string, epochs: number, threads: number, env: Record<string, string>): R | undefined {
  const script = new URL('./pytorch_train.py', import.meta.url).pathname;
  const args = [script, c.name, join(dir, `${c.name}-x.f32`), join(dir, `${c.name}-y.f32`), String(c.batchSize), String(epochs), String(threads)];
  const r = spawnSync(PYTHON, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`pytorch: not run (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}); install python3-torch and libopenblas0-pthread`);
    return undefined;
  }
  return JSON.parse(r.stdout) as R;
}

/**
 * bench/pytorch_ddp.py: case `c` trained by `world` PyTorch processes of one
 * thread each, DistributedDataParallel over Gloo on 127.0.0.1 (one process
 * without DDP for `world` 1), on the files {@link caseData} wrote; samples/s,
 * or undefined with the reason printed.
 */
async function runPytorchDdp(c: Case, dir: string, epochs: number, world: number): Promise<number | undefined> {
  const script = new URL('./pytorch_ddp.py', import.meta.url).pathname;
  const args = [script, c.name, join(dir, `${c.name}-x.f32`), join(dir, `${c.name}-y.f32`), String(c.batchSize), String(epochs), String(world), String(await freePort())];
  const r = spawnSync(PYTHON, args, { env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' }, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    console.log(`pytorch ddp: not run (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}); install python3-torch and libopenblas0-pthread`);
    return undefined;
  }
  return (JSON.parse(r.stdout) as { samples_per_s: number }).samples_per_s;
}

/**
 * {@link runPytorchDdp} with 1 and 2 processes, twice each in alternating
 * order (1, 2, 2, 1): the mean samples/s of each, or undefined where
 * PyTorch did not run.
 */
export async function pytorchDdpPair(c: Case, dir: string, epochs: number): Promise<{ one: number; two: number } | undefined> {
  const rates: Record<number, number[]> = { 1: [], 2: [] };
  for (const world of [1, 2, 2, 1]) {
    const r = await runPytorchDdp(c, dir, epochs, world);
    if (r === undefined) return undefined;
    rates[world].push(r);
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  return { one: mean(rates[1]), two: mean(rates[2]) };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for the PyTorch group's rendezvous). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
