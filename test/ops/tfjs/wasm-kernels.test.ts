import { backendReady, onBackend } from '../../helpers/backend.js';
await backendReady;

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Every gradient the layers need, computed on wasm (rxkeras's kernels and
 * gradient fixes) and compared with the cpu backend's stock kernels, within
 * 1e-5 absolute + 1e-4 relative per element. Dilated convolutions, whose
 * gradient tfjs refuses, are checked against the gradient of the same conv
 * written with an explicitly dilated (zero-inserted) filter, which the cpu
 * backend differentiates with its stock kernels.
 */

const ABS = 1e-5;
const REL = 1e-4;
const RUNS = 12;

assert.equal(tf.getBackend(), 'wasm', 'these tests check the wasm backend');

/** Deterministic data in [-1, 1), identical on both backends. */
function data(seed: number, n: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

type Shapes = number[][];
type F = (...xs: tf.Tensor[]) => tf.Tensor;

/** Gradients of f at inputs of `shapes` with a random cotangent, as plain arrays; checks for leaks. */
function gradsOn(f: F, shapes: Shapes, seed: number): { out: number[]; grads: number[][] } {
  const before = tf.memory().numTensors;
  const res = tf.tidy(() => {
    const xs = shapes.map((s, i) => tf.tensor(data(seed + 7919 * (i + 1), tf.util.sizeFromShape(s)), s));
    const y = f(...xs);
    const dy = tf.tensor(data(seed + 31, y.size), y.shape);
    const gs = tf.grads(f)(xs, dy);
    return { out: Array.from(y.dataSync()), grads: gs.map((g) => Array.from(g.dataSync())) };
  });
  assert.equal(tf.memory().numTensors, before, `tensors leaked on ${tf.getBackend()}`);
  return res;
}

function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= ABS + REL * Math.abs(e)))
      assert.fail(`${what}: element ${i}: wasm ${a} vs reference ${e} (|diff| ${Math.abs(a - e)} > ${ABS} + ${REL}*|ref|)`);
  }
}

/** Compares f's output and gradients on wasm with ref's (default f) on cpu. */
async function compare(what: string, f: F, shapes: Shapes, seed: number, ref: F = f): Promise<void> {
  const w = gradsOn(f, shapes, seed);
  const c = await onBackend('cpu', () => gradsOn(ref, shapes, seed));
  assertClose(w.out, c.out, `${what} output`);
  w.grads.forEach((g, i) => assertClose(g, c.grads[i]!, `${what} gradient ${i}`));
}

/** The filter with (d-1) zeros between taps along both spatial axes: conv with it == conv dilated by d. */
function dilateFilter(w: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw, a, b] = w.shape;
  let t: tf.Tensor = w;
  if (dw > 1) t = tf.slice(tf.reshape(tf.pad(tf.reshape(t, [kh, kw, 1, a * b]), [[0, 0], [0, 0], [0, dw - 1], [0, 0]]), [kh, kw * dw, a, b]), 0, [kh, (kw - 1) * dw + 1, a, b]);
  const w2 = t.shape[1]!;
  if (dh > 1) t = tf.slice(tf.reshape(tf.pad(tf.reshape(t, [kh, 1, w2 * a * b]), [[0, 0], [0, dh - 1], [0, 0]]), [kh * dh, w2, a, b]), 0, [(kh - 1) * dh + 1, w2, a, b]);
  return t as tf.Tensor4D;
}

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

/** A conv geometry: stride or dilation > 1 (tfjs allows not both), padding same / valid / explicit. */
const convCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    cin: fc.integer({ min: 1, max: 4 }),
    cout: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    dilate: fc.boolean(),
    pad: fc.oneof(
      fc.constant<Pad>('same'),
      fc.constant<Pad>('valid'),
      fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)).map(([a, b, c, d]): Pad => [[0, 0], [a, b], [c, d], [0, 0]]),
    ),
    seed: fc.integer({ min: 1, max: 1e9 }),
  })
  .map((c) => ({
    ...c,
    strides: (c.dilate ? [1, 1] : [c.sh, c.sw]) as [number, number],
    dilations: (c.dilate ? [c.sh, c.sw] : [1, 1]) as [number, number],
  }))
  .filter((c) => {
    const ekh = (c.kh - 1) * c.dilations[0] + 1;
    const ekw = (c.kw - 1) * c.dilations[1] + 1;
    if (c.pad === 'valid') return c.h >= ekh && c.w >= ekw;
    if (Array.isArray(c.pad)) return c.h + c.pad[1][0] + c.pad[1][1] >= ekh && c.w + c.pad[2][0] + c.pad[2][1] >= ekw;
    return true;
  });

describe('wasm gradient kernels against the cpu backend', () => {
  it('conv2d: x and filter gradients, strided, dilated, same / valid / explicit padding', async () => {
    await fc.assert(
      fc.asyncProperty(convCase, async (c) => {
        const f: F = (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilations);
        const ref: F = (x, w) => tf.conv2d(x as tf.Tensor4D, dilateFilter(w as tf.Tensor4D, c.dilations), c.strides, c.pad);
        await compare(`conv2d ${JSON.stringify(c)}`, f, [[c.n, c.h, c.w, c.cin], [c.kh, c.kw, c.cin, c.cout]], c.seed, ref);
      }),
      { numRuns: RUNS },
    );
  });

  it('depthwiseConv2d: x and filter gradients, channel multiplier 1-2, strided, dilated', async () => {
    await fc.assert(
      fc.asyncProperty(convCase, fc.integer({ min: 1, max: 2 }), async (c, m) => {
        const pad = Array.isArray(c.pad) ? 'same' : c.pad; // tfjs depthwise takes same / valid / a number
        const f: F = (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, pad, 'NHWC', c.dilations);
        const ref: F = (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, dilateFilter(w as tf.Tensor4D, c.dilations), c.strides, pad);
        const ekh = (c.kh - 1) * c.dilations[0] + 1;
        const ekw = (c.kw - 1) * c.dilations[1] + 1;
        fc.pre(pad === 'same' || (c.h >= ekh && c.w >= ekw));
        await compare(`depthwiseConv2d m=${m} ${JSON.stringify(c)}`, f, [[c.n, c.h, c.w, c.cin], [c.kh, c.kw, c.cin, m]], c.seed, ref);
      }),
      { numRuns: RUNS },
    );
  });

  it('separableConv2d: input, depthwise and pointwise gradients', async () => {
    await fc.assert(
      fc.asyncProperty(convCase, async (c) => {
        const pad = c.pad === 'valid' ? 'valid' : 'same';
        fc.pre(pad === 'same' || (c.h >= (c.kh - 1) * c.dilations[0] + 1 && c.w >= (c.kw - 1) * c.dilations[1] + 1));
        // tfjs separableConv2d allows dilation only with stride 1, as here.
        const f: F = (x, d, p) => tf.separableConv2d(x as tf.Tensor4D, d as tf.Tensor4D, p as tf.Tensor4D, c.strides, pad, c.dilations);
        const ref: F = (x, d, p) => tf.separableConv2d(x as tf.Tensor4D, dilateFilter(d as tf.Tensor4D, c.dilations), p as tf.Tensor4D, c.strides, pad);
        const shapes = [[c.n, c.h, c.w, c.cin], [c.kh, c.kw, c.cin, 2], [1, 1, c.cin * 2, c.cout]];
        await compare(`separableConv2d ${JSON.stringify(c)}`, f, shapes, c.seed, ref);
      }),
      { numRuns: 8 },
    );
  });

  it('conv1d: x and filter gradients, stride / dilation, same / valid', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 3 }),
          len: fc.integer({ min: 5, max: 16 }),
          k: fc.integer({ min: 1, max: 4 }),
          cin: fc.integer({ min: 1, max: 4 }),
          cout: fc.integer({ min: 1, max: 4 }),
          s: fc.integer({ min: 1, max: 3 }),
          dilate: fc.boolean(),
          pad: fc.constantFrom<'same' | 'valid'>('same', 'valid'),
          seed: fc.integer({ min: 1, max: 1e9 }),
        }),
        async (c) => {
          const stride = c.dilate ? 1 : c.s;
          const dilation = c.dilate ? c.s : 1;
          fc.pre(c.pad === 'same' || c.len >= (c.k - 1) * dilation + 1);
          const f: F = (x, w) => tf.conv1d(x as tf.Tensor3D, w as tf.Tensor3D, stride, c.pad, 'NWC', dilation);
          const ref: F = (x, w) =>
            tf.squeeze(tf.conv2d(tf.expandDims(x, 1) as tf.Tensor4D, dilateFilter(tf.expandDims(w, 0) as tf.Tensor4D, [1, dilation]), [1, stride], c.pad), [1]);
          await compare(`conv1d ${JSON.stringify(c)}`, f, [[c.n, c.len, c.cin], [c.k, c.cin, c.cout]], c.seed, ref);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('maxPool and avgPool: input gradients, strided, same / valid', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }),
          h: fc.integer({ min: 2, max: 9 }),
          w: fc.integer({ min: 2, max: 9 }),
          c: fc.integer({ min: 1, max: 4 }),
          k: fc.integer({ min: 1, max: 3 }),
          s: fc.integer({ min: 1, max: 3 }),
          pad: fc.constantFrom<'same' | 'valid'>('same', 'valid'),
          seed: fc.integer({ min: 1, max: 1e9 }),
        }),
        async (c) => {
          fc.pre(c.pad === 'same' || (c.h >= c.k && c.w >= c.k));
          const shapes = [[c.n, c.h, c.w, c.c]];
          await compare(`maxPool ${JSON.stringify(c)}`, (x) => tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad), shapes, c.seed);
          await compare(`avgPool ${JSON.stringify(c)}`, (x) => tf.avgPool(x as tf.Tensor4D, c.k, c.s, c.pad), shapes, c.seed);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('matMul: all four transpose combinations, batched and broadcast operands', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          m: fc.integer({ min: 1, max: 7 }),
          k: fc.integer({ min: 1, max: 7 }),
          n: fc.integer({ min: 1, max: 7 }),
          batch: fc.constantFrom<number[]>([], [3], [2, 2]),
          broadcast: fc.constantFrom('none', 'a', 'b'),
          tA: fc.boolean(),
          tB: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1e9 }),
        }),
        async (c) => {
          const aBatch = c.broadcast === 'a' ? [] : c.batch;
          const bBatch = c.broadcast === 'b' ? [] : c.batch;
          const aShape = [...aBatch, ...(c.tA ? [c.k, c.m] : [c.m, c.k])];
          const bShape = [...bBatch, ...(c.tB ? [c.n, c.k] : [c.k, c.n])];
          await compare(`matMul ${JSON.stringify(c)}`, (a, b) => tf.matMul(a, b, c.tA, c.tB), [aShape, bShape], c.seed);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('batchNorm: gradients of x, mean, variance, offset and scale (rank 2 and 4)', async () => {
    for (const [shape, seed] of [
      [[5, 3], 11],
      [[2, 4, 3, 6], 12],
    ] as [number[], number][]) {
      const c = shape[shape.length - 1]!;
      const f: F = (x, m, v, o, s) => tf.batchNorm(x, m, tf.add(tf.square(v), 0.5), o, s, 1e-3);
      await compare(`batchNorm ${shape}`, f, [shape, [c], [c], [c], [c]], seed);
    }
  });

  it('a small conv net (conv-pool-conv-pool-dense): every parameter gradient', async () => {
    const f: F = (x, w1, w2, w3) => {
      let h = tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'valid'));
      h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.relu(tf.conv2d(h, w2 as tf.Tensor4D, 1, 'same'));
      h = tf.avgPool(h, 2, 2, 'same');
      return tf.matMul(tf.reshape(h, [h.shape[0], -1]), w3);
    };
    await compare('conv net', f, [[4, 12, 12, 2], [3, 3, 2, 4], [3, 3, 4, 5], [45, 3]], 5);
  });
});

/** x values for pooling: continuous, or small rounded integers (many ties), now and then NaN / -Infinity. */
function poolData(seed: number, n: number, kind: 'continuous' | 'ties' | 'special'): Float32Array {
  const u = data(seed, n);
  if (kind === 'continuous') return u;
  return u.map((v, i) => {
    if (kind === 'special' && u[(i * 7 + 3) % n]! > 0.7) return v > 0.5 ? Number.NaN : -Infinity;
    return Math.round(v * 2);
  });
}

describe('MaxPoolGrad on wasm (JavaScript on the heap) against the cpu backend kernel', () => {
  type PoolPad = 'same' | 'valid' | number;
  interface PoolCase {
    n: number;
    h: number;
    w: number;
    c: number;
    filter: [number, number];
    strides: [number, number];
    pad: PoolPad;
    rounding: 'floor' | 'ceil' | undefined;
    kind: 'continuous' | 'ties' | 'special';
    seed: number;
  }

  /** dx from the MaxPoolGrad kernel on `backend`, on the same x and dy there; checks for leaks. */
  function kernelGrad(c: PoolCase, backend: 'cpu' | 'wasm'): Promise<number[]> {
    return onBackend(backend, () => {
      const tensors = tf.memory().numTensors;
      const dataIds = tf.engine().backend.numDataIds();
      const dx = tf.tidy(() => {
        const x = tf.tensor(poolData(c.seed, c.n * c.h * c.w * c.c, c.kind), [c.n, c.h, c.w, c.c]) as tf.Tensor4D;
        const y = tf.maxPool(x, c.filter, c.strides, c.pad, c.rounding);
        const dy = tf.tensor(data(c.seed + 1, y.size), y.shape);
        const attrs = { filterSize: c.filter, strides: c.strides, pad: c.pad, dimRoundingMode: c.rounding };
        const g = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
        assert.deepEqual(g.shape, x.shape);
        return Array.from(g.dataSync());
      });
      assert.equal(tf.memory().numTensors, tensors, `tensors leaked on ${backend}`);
      assert.equal(tf.engine().backend.numDataIds(), dataIds, `backend data leaked on ${backend}`);
      return dx;
    });
  }

  async function check(c: PoolCase): Promise<void> {
    const w = await kernelGrad(c, 'wasm');
    const ref = await kernelGrad(c, 'cpu');
    assert.equal(w.length, ref.length);
    for (let i = 0; i < w.length; i++)
      if (!(Math.abs(w[i]! - ref[i]!) <= 1e-6)) assert.fail(`${JSON.stringify(c)}: dx[${i}]: wasm ${w[i]} vs cpu ${ref[i]}`);
  }

  const dim = fc.integer({ min: 1, max: 4 });
  const poolCase = fc
    .record({
      n: fc.integer({ min: 1, max: 3 }),
      h: fc.integer({ min: 1, max: 11 }),
      w: fc.integer({ min: 1, max: 11 }),
      c: fc.integer({ min: 1, max: 5 }),
      filter: fc.tuple(dim, dim),
      strides: fc.tuple(dim, dim),
      nonOverlapping: fc.boolean(),
      pad: fc.oneof(fc.constant<PoolPad>('same'), fc.constant<PoolPad>('valid'), fc.integer({ min: 0, max: 1 })),
      rounding: fc.constantFrom<'floor' | 'ceil'>('floor', 'ceil'),
      kind: fc.constantFrom<PoolCase['kind']>('continuous', 'ties', 'ties', 'special'),
      seed: fc.integer({ min: 1, max: 1e9 }),
    })
    .map(({ nonOverlapping, ...c }): PoolCase => {
      const strides: [number, number] = nonOverlapping ? c.filter : c.strides; // half the cases: stride == pool size
      if (typeof c.pad !== 'number') return { ...c, strides, rounding: undefined };
      // tfjs sizes numeric-pad pooling from the filter's and stride's first entry only; square, as it assumes.
      return { ...c, filter: [c.filter[0], c.filter[0]], strides: [strides[0], strides[0]] };
    })
    .filter((c) => {
      if (c.pad === 'same') return true;
      const p = c.pad === 'valid' ? 0 : 2 * c.pad;
      return c.h + p >= c.filter[0] && c.w + p >= c.filter[1];
    });

  it('random shapes, ties, NaN / -Infinity, remainders, same / valid / numeric padding, overlapping or not: within 1e-6, no leaks', async () => {
    await fc.assert(fc.asyncProperty(poolCase, check), { numRuns: 150 });
  });

  it('the cases the stock wasm kernel gets wrong, and ties routed to the first maximum', async () => {
    const base = { n: 2, c: 3, rounding: undefined, seed: 17 } as const;
    await check({ ...base, h: 26, w: 26, filter: [2, 2], strides: [2, 2], pad: 'valid', kind: 'continuous' });
    await check({ ...base, h: 11, w: 11, filter: [2, 2], strides: [2, 2], pad: 'valid', kind: 'ties' });
    await check({ ...base, h: 7, w: 9, filter: [3, 3], strides: [2, 2], pad: 'same', kind: 'ties' });
    // All equal: every window's gradient goes to its top-left position.
    const dx = await onBackend('wasm', () =>
      tf.tidy(() => {
        const x = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
        const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid')))(x);
        return Array.from(grad.dataSync());
      }),
    );
    assert.deepEqual(dx, [1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  });
});

describe('wasm kernels: forward results', () => {
  it('matMul with transposed operands equals the cpu backend (rxkeras transposes explicitly)', async () => {
    for (const [tA, tB] of [[true, false], [false, true], [true, true]] as const) {
      const run = () =>
        tf.tidy(() => {
          const a = tf.tensor(data(3, 6 * 5 * 4), tA ? [6, 4, 5] : [6, 5, 4]);
          const b = tf.tensor(data(4, 4 * 3), tB ? [3, 4] : [4, 3]);
          return Array.from(tf.matMul(a, b, tA, tB).dataSync());
        });
      assertClose(run(), await onBackend('cpu', run), `matMul tA=${tA} tB=${tB}`);
    }
  });

  it('conv2dTranspose (Conv2DBackpropInput as a forward op) equals the cpu backend', async () => {
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor(data(8, 2 * 4 * 5 * 3), [2, 4, 5, 3]) as tf.Tensor4D;
        const w = tf.tensor(data(9, 3 * 3 * 6 * 3), [3, 3, 6, 3]) as tf.Tensor4D;
        return Array.from(tf.conv2dTranspose(x, w, [2, 8, 10, 6], 2, 'same').dataSync());
      });
    assertClose(run(), await onBackend('cpu', run), 'conv2dTranspose');
  });

  it("conv2d / depthwiseConv2d with 'same' padding and unequal strides equal the cpu backend (stock wasm got these wrong)", async () => {
    const cases: [[number, number, number, number], [number, number, number, number], [number, number]][] = [
      [[1, 2, 2, 1], [1, 2, 1, 1], [2, 1]],
      [[1, 2, 3, 1], [1, 2, 1, 1], [2, 1]],
      [[1, 1, 2, 1], [2, 1, 1, 1], [1, 2]],
    ];
    for (const [xs, ws, strides] of cases) {
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor(data(5, tf.util.sizeFromShape(xs)), xs) as tf.Tensor4D;
          const w = tf.tensor(data(6, tf.util.sizeFromShape(ws)), ws) as tf.Tensor4D;
          return [...tf.conv2d(x, w, strides, 'same').dataSync(), ...tf.depthwiseConv2d(x, w, strides, 'same').dataSync()];
        });
      assertClose(run(), await onBackend('cpu', run), `same padding ${JSON.stringify([xs, ws, strides])}`);
    }
  });
});
