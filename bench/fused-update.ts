/**
 * `npm run bench:update`: the fused optimizer updates, native (AVX2, in
 * rxkeras's ONNX Runtime addon) against WebAssembly (native/fused-update),
 * over the weights of the bench's MLP (669,706 floats) and over half of them
 * (a replica's share of two), with one gradient and with two (a data-parallel
 * pair's, summed as read), in the same run, alternating: ms per update and
 * the WebAssembly/native ratio. One thread; the memory is warm (a training
 * step's update reads what the step just wrote).
 */
import { readFileSync } from 'node:fs';
import { builtFile } from '../src/ops/native-dir.js';
import { fastestFusedKernels, runFusedRule, type FusedKernels, type FusedRule } from '../src/ops/compiled/index.js';

const MLP = 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REPS = 200;

const wasmApi = (globalThis as unknown as { WebAssembly: { Instance: new (m: object, i: object) => { exports: Record<string, unknown> }; Module: new (b: Uint8Array) => object } }).WebAssembly;
const { exports } = new wasmApi.Instance(new wasmApi.Module(readFileSync(builtFile('fused-update/build/fused-update.wasm')!)), { env: { abort: () => { throw new Error('abort'); } } });
const memory = exports.memory as { buffer: ArrayBuffer; grow(pages: number): number };
const wasm = exports as unknown as FusedKernels;
const native = fastestFusedKernels(memory, wasm);
if (native === wasm) throw new Error('the native kernels do not load here (build the ONNX Runtime addon: node native/ort-session/build.mjs; AVX2 needed)');

const region = Math.ceil(MLP / 4) * 16;
const base = Math.ceil(wasm.heapBase() / 16) * 16;
memory.grow(Math.ceil((base + 8 * region) / 65536));
const f32 = new Float32Array(memory.buffer);
for (let i = base / 4; i < (base + 8 * region) / 4; i++) f32[i] = Math.random() * 0.01;
const at = (k: number) => base + k * region;

const rules: [string, FusedRule][] = [
  ['adam', { kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, alpha: 0.5, amsgrad: false }],
  ['sgd with momentum', { kind: 'sgd', lr: 0.01, momentum: 0.9, nesterov: false }],
  ['rmsprop', { kind: 'rmsprop', lr: 0.001, rho: 0.9, epsilon: 1e-7, centered: false }],
];

/** ms per update of `n` floats in place with `k`. */
function time(k: FusedKernels, rule: FusedRule, n: number, two: boolean): number {
  const slots = { m: at(3), v: at(4), momentum: at(3), rms: at(3) };
  const run = () => runFusedRule(k, rule, n, at(0), two ? [at(1), at(2)] : at(1), slots, at(0), slots);
  for (let i = 0; i < 10; i++) run();
  const start = performance.now();
  for (let i = 0; i < REPS; i++) run();
  return (performance.now() - start) / REPS;
}

for (const [name, rule] of rules)
  for (const [what, n, two] of [['the MLP', MLP, false], ['half the MLP, two gradients', Math.ceil(MLP / 2), true]] as const) {
    const ms = { native: [] as number[], wasm: [] as number[] };
    for (let round = 0; round < ROUNDS; round++)
      for (const [label, k] of (round % 2 === 0 ? [['native', native], ['wasm', wasm]] : [['wasm', wasm], ['native', native]]) as ['native' | 'wasm', FusedKernels][])
        ms[label].push(time(k, rule, n, two));
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    console.log(`${name}, ${what} (${n} floats): native ${mean(ms.native).toFixed(3)} ms, WebAssembly ${mean(ms.wasm).toFixed(3)} ms; WebAssembly/native ${(mean(ms.wasm) / mean(ms.native)).toFixed(2)}`);
  }
