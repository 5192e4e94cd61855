/**
 * The AVX2 fused updates of rxkeras's ONNX Runtime addon against the
 * WebAssembly kernels they replace (native/fused-update): over the same
 * memory, the same arguments give the same floats, bit for bit (NaN for
 * NaN), for every rule and mode, on a length whose last four floats take
 * the four-lane path. Skipped where the addon or AVX2 is missing (CI builds
 * the addon and requires it: RXKERAS_REQUIRE_ORT_ADDON=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtFile } from '../../../src/ops/native-dir.js';
import { ortAddon } from '../../../src/ops/onnx/native-session.js';
import { fastestFusedKernels, type FusedKernels } from '../../../src/ops/compiled/index.js';

const addon = ortAddon();
const native = typeof addon === 'string' ? undefined : addon.fusedUpdate;
const skip = native ? false : typeof addon === 'string' ? addon : 'this CPU has no AVX2';
if (typeof addon === 'string' && process.env.RXKERAS_REQUIRE_ORT_ADDON === '1') throw new Error(`RXKERAS_REQUIRE_ORT_ADDON=1: ${addon}`);

const N = 1003; // padded to 1004: 125 eight-lane blocks, then one of four
const REGION = 1004 * 4;

/** The WebAssembly kernels over their own memory, and the fastest kernels over the same memory. */
function kernels(): { wasm: FusedKernels; fast: FusedKernels; f32: () => Float32Array; base: number } {
  const bytes = readFileSync(builtFile('fused-update/build/fused-update.wasm')!);
  const wasmApi = (globalThis as unknown as { WebAssembly: { Instance: new (m: object, i: object) => { exports: Record<string, unknown> }; Module: new (b: Uint8Array) => object } }).WebAssembly;
  const { exports } = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { abort: () => { throw new Error('abort'); } } });
  const memory = exports.memory as { buffer: ArrayBuffer; grow(pages: number): number };
  memory.grow(4);
  const wasm = exports as unknown as FusedKernels;
  return { wasm, fast: fastestFusedKernels(memory, wasm), f32: () => new Float32Array(memory.buffer), base: Math.ceil(wasm.heapBase() / 16) * 16 };
}

/** Region k's byte offset. */
const at = (base: number, k: number) => base + k * REGION;

/** A kernel call: inputs at `input(k)`, outputs by name. */
type Call = (k: FusedKernels, input: (k: number) => number, out: (name: string) => number) => void;

/**
 * Fills 6 input regions with seeded values (signs mixed, some zeros, one NaN
 * in the gradient and one in the AMSGrad slot), runs `call` with the
 * WebAssembly kernels writing to one set of output regions and the native
 * ones to another, and compares them float by float.
 */
function same(rule: string, call: Call): void {
  const { wasm, fast, f32, base } = kernels();
  assert.notEqual(fast, wasm, 'the native kernels load');
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const view = f32();
  for (let k = 0; k < 6; k++) for (let i = 0; i < 1004; i++) view[at(base, k) / 4 + i] = k >= 3 ? Math.abs(random()) * (i % 17 === 0 ? 0 : 1) : random();
  view[at(base, 1) / 4 + 500] = NaN;
  view[at(base, 5) / 4 + 900] = NaN;
  const outputs = ['p', 'a', 'b', 'c'];
  const input = (k: number) => at(base, k);
  call(wasm, input, (name) => at(base, 6 + outputs.indexOf(name)));
  call(fast, input, (name) => at(base, 10 + outputs.indexOf(name)));
  const after = f32();
  for (let k = 0; k < 4; k++)
    for (let i = 0; i < N; i++) {
      const [a, b] = [after[at(base, 6 + k) / 4 + i], after[at(base, 10 + k) / 4 + i]];
      if (!Object.is(a, b)) assert.fail(`${rule}, output ${outputs[k]}[${i}]: native ${b}, WebAssembly ${a}`);
    }
}

// Inputs: 0 weights, 1 gradient, 2 second gradient, 3-5 slots (non-negative).
const [P, G, G2, S1, S2, S3] = [0, 1, 2, 3, 4, 5];

for (const two of [0, 1])
  for (const [momentum, nesterov] of [[0, 0], [1, 0], [1, 1]])
    test(`sgd (momentum ${momentum}, nesterov ${nesterov}, two gradients ${two}) as the WebAssembly kernel`, { skip }, () =>
      same('sgd', (k, input, out) => {
        k.sgd(input(P), input(G), input(G2), input(S1), out('p'), out('a'), N, Math.fround(-0.1), Math.fround(0.9), momentum, nesterov, two);
      }));

for (const two of [0, 1])
  for (const amsgrad of [0, 1])
    test(`adam (amsgrad ${amsgrad}, two gradients ${two}) as the WebAssembly kernel`, { skip }, () =>
      same('adam', (k, input, out) => {
        const f = Math.fround;
        k.adam(input(P), input(G), input(G2), input(S1), input(S2), input(S3), out('p'), out('a'), out('b'), out('c'), N, f(0.9), f(0.1), f(0.999), f(0.001), f(0.05), f(1e-7), f(-0.01), amsgrad, two);
      }));

for (const two of [0, 1])
  for (const [centered, momentum] of [[0, 0], [1, 0], [0, 1], [1, 1]])
    test(`rmsprop (centered ${centered}, momentum ${momentum}, two gradients ${two}) as the WebAssembly kernel`, { skip }, () =>
      same('rmsprop', (k, input, out) => {
        const f = Math.fround;
        k.rmsprop(input(P), input(G), input(G2), input(S1), input(S2), input(S3), out('p'), out('a'), out('b'), out('c'), N, f(0.9), f(0.1), f(1e-7), f(0.01), f(-0.01), f(0.5), centered, momentum, two);
      }));

test('a bad offset or count is a RangeError, not a write outside the memory', { skip }, () => {
  const { fast, base } = kernels();
  assert.throws(() => fast.sgd(at(base, P), at(base, G), 0, 0, 1 << 30, 0, N, -0.1, 0, 0, 0, 0), (e: Error) => e instanceof RangeError && /do not fit the memory/.test(e.message));
  assert.throws(() => fast.sgd(at(base, P), at(base, G), 0, 0, at(base, 6), 0, -4, -0.1, 0, 0, 0, 0), (e: Error) => e instanceof RangeError && /not a count of floats/.test(e.message));
});
