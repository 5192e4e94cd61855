/**
 * Kernel benchmarks for the wasm backend: stock tfjs kernels vs rxkeras's.
 *
 *   npx tsx bench/kernels.ts                      # threads = cores
 *   RXKERAS_WASM_THREADS=1 npx tsx bench/kernels.ts
 *
 * Prints ms per op (median of timed repetitions after a warm-up) and the
 * stock/rxkeras ratio. Where the stock wasm backend has no kernel the cpu
 * backend stands in as "before".
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, describeBackend } from '../src/ops/tfjs/backend.js';
import { restoreStockWasmKernels, registerWasmKernels, type WasmKernelName } from '../src/ops/tfjs/kernels/index.js';

process.env.RXKERAS_BACKEND ??= 'wasm';
await initBackend({ quiet: true });
await import('@tensorflow/tfjs-backend-cpu');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** ms per call of f (which returns tensors; their data is read to wait for the work). */
function time(f: () => tf.Tensor | tf.Tensor[], reps: number, warmup = 2): number {
  const once = () => {
    const t0 = performance.now();
    tf.tidy(() => {
      const out = f();
      for (const t of Array.isArray(out) ? out : [out]) t.dataSync();
    });
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) once();
  return median(Array.from({ length: reps }, once));
}

const rows: string[][] = [['case', 'before (ms)', 'rxkeras (ms)', 'speed-up']];
function report(name: string, before: number | string, after: number): void {
  const b = typeof before === 'number' ? before.toFixed(2) : before;
  const ratio = typeof before === 'number' ? `${(before / after).toFixed(1)}x` : '-';
  rows.push([name, b, after.toFixed(2), ratio]);
  console.log(`${name}: before ${b} ms, rxkeras ${after.toFixed(2)} ms, ${ratio}`);
}

/** Times f with the stock wasm kernel(s), then with rxkeras's. */
function stockVsOurs(name: string, kernels: WasmKernelName[], f: () => tf.Tensor | tf.Tensor[], reps: number): void {
  restoreStockWasmKernels(kernels);
  let before: number | string;
  try {
    before = time(f, reps);
  } catch (e) {
    before = `fails (${(e as Error).message.slice(0, 60)})`;
  }
  registerWasmKernels(kernels);
  report(name, before, time(f, reps));
}

async function onCpu(f: () => tf.Tensor | tf.Tensor[], reps: number): Promise<number> {
  await tf.setBackend('cpu');
  try {
    return time(f, reps, 0);
  } finally {
    await tf.setBackend('wasm');
  }
}

const rnd = (shape: number[]) => tf.keep(tf.randomNormal(shape, 0, 1, 'float32', 1));

console.log(`backend: ${describeBackend()}`);

// 1. matmul GFLOP/s, 1024x1024.
{
  const a = rnd([1024, 1024]);
  const b = rnd([1024, 1024]);
  const ms = time(() => tf.matMul(a, b), 10);
  const gflops = (2 * 1024 ** 3) / (ms * 1e6);
  console.log(`matMul 1024x1024: ${ms.toFixed(1)} ms = ${gflops.toFixed(1)} GFLOP/s on ${describeBackend()}`);
  rows.push([`matMul 1024 (${describeBackend()})`, '', ms.toFixed(2), `${gflops.toFixed(1)} GFLOP/s`]);
  stockVsOurs('matMul 1024 transposeA', ['BatchMatMul'], () => tf.matMul(a, b, true, false), 5);
  stockVsOurs('matMul 1024 transposeB', ['BatchMatMul'], () => tf.matMul(a, b, false, true), 5);
  tf.dispose([a, b]);
}

// 2. Dense backward (MLP 784-512-512-10, batch 128): the transposed matmuls of every Dense layer.
{
  const x = rnd([128, 784]);
  const ws = [rnd([784, 512]), rnd([512, 512]), rnd([512, 10])];
  const loss = (...w: tf.Tensor[]) => {
    let h: tf.Tensor = x;
    w.forEach((wi, i) => (h = i < w.length - 1 ? tf.relu(tf.matMul(h, wi)) : tf.matMul(h, wi)));
    return tf.mean(tf.square(h));
  };
  stockVsOurs('MLP 784-512-512-10 b128 forward+backward', ['BatchMatMul'], () => tf.grads(loss)(ws), 10);
  tf.dispose([x, ...ws]);
}

// 3. Conv kernels at MNIST-CNN shapes.
{
  const x = rnd([64, 28, 28, 1]);
  const w1 = rnd([3, 3, 1, 32]);
  const h1 = rnd([64, 13, 13, 32]);
  const w2 = rnd([3, 3, 32, 64]);
  const dy2 = rnd([64, 11, 11, 64]);
  const dy1 = rnd([64, 26, 26, 32]);
  const conv2dBackpropInput = () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dy2, filter: w2 }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', inputShape: h1.shape }) as tf.Tensor;
  stockVsOurs('Conv2DBackpropInput 64x13x13x32 <- 3x3x32x64', ['Conv2DBackpropInput'], conv2dBackpropInput, 5);
  const filterGrad = () => tf.engine().runKernel('Conv2DBackpropFilter', { x: h1, dy: dy2 }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: w2.shape }) as tf.Tensor;
  restoreStockWasmKernels(['Conv2DBackpropFilter']);
  const cpuFilter = await onCpu(filterGrad, 2);
  registerWasmKernels(['Conv2DBackpropFilter']);
  report('Conv2DBackpropFilter 3x3x32x64 (before = cpu backend; wasm had none)', cpuFilter, time(filterGrad, 5));
  const filterGrad1 = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dy1 }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: w1.shape }) as tf.Tensor;
  report('Conv2DBackpropFilter 3x3x1x32 (before = cpu backend)', await onCpu(filterGrad1, 2), time(filterGrad1, 5));
  // MaxPoolGrad: the stock wasm kernel is faster than a tensor-op version but wrong (e.g. 2x2/2 valid).
  for (const [shape, k, s, pad] of [
    [[64, 26, 26, 32], 2, 2, 'valid'],
    [[64, 11, 11, 64], 2, 2, 'valid'],
    [[32, 28, 28, 32], 3, 1, 'same'],
    [[32, 27, 27, 32], 3, 2, 'same'],
  ] as const) {
    const pooled = rnd([...shape]);
    const pooledOut = tf.keep(tf.maxPool(pooled as tf.Tensor4D, k, s, pad));
    const dyPool = rnd(pooledOut.shape);
    const maxPoolGrad = () => tf.engine().runKernel('MaxPoolGrad', { dy: dyPool, input: pooled, output: pooledOut }, { filterSize: k, strides: s, pad }) as tf.Tensor;
    stockVsOurs(`MaxPoolGrad ${shape.join('x')} ${k}x${k}/${s} ${pad} (before = stock wasm, wrong values)`, ['MaxPoolGrad'], maxPoolGrad, 9);
    tf.dispose([pooled, pooledOut, dyPool]);
  }
  const dwX = rnd([32, 28, 28, 32]);
  const dwW = rnd([3, 3, 32, 1]);
  const dwDy = rnd([32, 28, 28, 32]);
  const dwIn = () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dwDy, filter: dwW }, { strides: 1, pad: 'same', dilations: 1, inputShape: dwX.shape }) as tf.Tensor;
  const dwF = () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: dwX, dy: dwDy }, { strides: 1, pad: 'same', dilations: 1, filterShape: dwW.shape }) as tf.Tensor;
  report('DepthwiseBackpropInput 32x28x28x32 3x3 (before = cpu backend)', await onCpu(dwIn, 2), time(dwIn, 5));
  report('DepthwiseBackpropFilter 32x28x28x32 3x3 (before = cpu backend)', await onCpu(dwF, 2), time(dwF, 5));
  tf.dispose([x, w1, h1, w2, dy2, dy1, dwX, dwW, dwDy]);
}

// 4. One training step's backward of the notes' CNN: conv32-pool-conv64-pool-128-10, batch 64.
{
  const x = rnd([64, 28, 28, 1]);
  const params = [rnd([3, 3, 1, 32]), rnd([3, 3, 32, 64]), tf.keep(tf.mul(rnd([1600, 128]), 0.03)), tf.keep(tf.mul(rnd([128, 10]), 0.1))];
  const loss = (w1: tf.Tensor, w2: tf.Tensor, w3: tf.Tensor, w4: tf.Tensor) => {
    let h = tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'valid'));
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.relu(tf.conv2d(h, w2 as tf.Tensor4D, 1, 'valid'));
    h = tf.maxPool(h, 2, 2, 'valid');
    const d = tf.relu(tf.matMul(tf.reshape(h, [64, -1]), w3));
    return tf.mean(tf.square(tf.matMul(d, w4)));
  };
  const step = () => tf.grads(loss as (...t: tf.Tensor[]) => tf.Tensor)(params);
  restoreStockWasmKernels();
  const cpu = await onCpu(step, 1);
  registerWasmKernels();
  const ours = time(step, 5);
  report('CNN conv32-pool-conv64-pool-128-10 b64, forward+backward step (before = cpu backend; stock wasm fails)', cpu, ours);
  restoreStockWasmKernels(['BatchMatMul', 'Conv2DBackpropInput', 'MaxPoolGrad']);
  const partial = time(step, 3);
  registerWasmKernels();
  report('  same step, rxkeras filter grads + stock wasm BatchMatMul/BackpropInput/MaxPoolGrad', partial, ours);
  tf.dispose([x, ...params]);
}

console.log('\n' + rows.map((r) => r.join(' | ')).join('\n'));
