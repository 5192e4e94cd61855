/**
 * Float64 reference formulas for the loss and metric tests, written from the
 * Keras 2 source independently of src/ (plain JS numbers, row by row over the
 * last axis). Probabilities are clipped with the float32 values of Keras's
 * epsilon bounds, as TensorFlow computes them in float32.
 */
import assert from 'node:assert/strict';

export type Rows = number[][];

export const EPS = 1e-7;
export const EPS32 = Math.fround(1e-7);
export const HI32 = Math.fround(1 - EPS32);

/** Deterministic uniform numbers (mulberry32), rounded to float32 so the tensors hold exactly these values. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniform(r: () => number, rows: number, cols: number, lo: number, hi: number): Rows {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.fround(lo + (hi - lo) * r())));
}

export function oneHotRows(labels: number[], classes: number): Rows {
  return labels.map((l) => Array.from({ length: classes }, (_, j) => (j === l ? 1 : 0)));
}

export function labels(r: () => number, n: number, classes: number): number[] {
  return Array.from({ length: n }, () => Math.floor(r() * classes));
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const clip = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const lse = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(sum(xs.map((x) => Math.exp(x - m))));
};
const argmax = (xs: number[]) => xs.indexOf(Math.max(...xs));

type RowFn = (t: number[], p: number[]) => number;
const byRow = (f: RowFn) => (T: Rows, P: Rows) => T.map((t, i) => f(t, P[i]));

export const ref = {
  mse: byRow((t, p) => mean(p.map((x, j) => (x - t[j]) ** 2))),
  mae: byRow((t, p) => mean(p.map((x, j) => Math.abs(x - t[j])))),
  mape: byRow((t, p) => 100 * mean(p.map((x, j) => Math.abs((t[j] - x) / Math.max(Math.abs(t[j]), EPS))))),
  msle: byRow((t, p) => mean(p.map((x, j) => (Math.log(Math.max(x, EPS) + 1) - Math.log(Math.max(t[j], EPS) + 1)) ** 2))),
  logcosh: byRow((t, p) => mean(p.map((x, j) => Math.log(Math.cosh(x - t[j]))))),
  huber: (delta: number) =>
    byRow((t, p) =>
      mean(
        p.map((x, j) => {
          const e = Math.abs(x - t[j]);
          return e <= delta ? 0.5 * e * e : delta * e - 0.5 * delta * delta;
        }),
      ),
    ),
  /** Hinge losses convert 0/1 targets to -1/1 when every target of the batch is 0 or 1. */
  hinge: (T: Rows, P: Rows) => {
    const binary = T.every((t) => t.every((v) => v === 0 || v === 1));
    return T.map((t, i) => mean(P[i].map((x, j) => Math.max(1 - (binary ? 2 * t[j] - 1 : t[j]) * x, 0))));
  },
  squaredHinge: (T: Rows, P: Rows) => {
    const binary = T.every((t) => t.every((v) => v === 0 || v === 1));
    return T.map((t, i) => mean(P[i].map((x, j) => Math.max(1 - (binary ? 2 * t[j] - 1 : t[j]) * x, 0) ** 2)));
  },
  categoricalHinge: byRow((t, p) => {
    const pos = sum(p.map((x, j) => t[j] * x));
    const neg = Math.max(...p.map((x, j) => (1 - t[j]) * x));
    return Math.max(neg - pos + 1, 0);
  }),
  bce: (ls = 0) =>
    byRow((t, p) =>
      mean(
        p.map((x, j) => {
          const z = t[j] * (1 - ls) + 0.5 * ls;
          const q = clip(x, EPS32, HI32);
          return -(z * Math.log(q + EPS) + (1 - z) * Math.log(1 - q + EPS));
        }),
      ),
    ),
  bceLogits: (ls = 0) =>
    byRow((t, p) =>
      mean(
        p.map((x, j) => {
          const z = t[j] * (1 - ls) + 0.5 * ls;
          return -(z * Math.log(sigmoid(x)) + (1 - z) * Math.log(1 - sigmoid(x)));
        }),
      ),
    ),
  cce: (ls = 0) =>
    byRow((t, p) => {
      const s = sum(p);
      return -sum(p.map((x, j) => (t[j] * (1 - ls) + ls / t.length) * Math.log(clip(x / s, EPS32, HI32))));
    }),
  cceLogits: (ls = 0) =>
    byRow((t, p) => {
      const l = lse(p);
      return -sum(p.map((x, j) => (t[j] * (1 - ls) + ls / t.length) * (x - l)));
    }),
  /** Sparse: `labels[i]` is the class of row i. */
  scce: (labels: number[], P: Rows) =>
    P.map((p, i) => {
      const q = p.map((x) => clip(x, EPS32, HI32));
      return -Math.log(q[labels[i]] / sum(q));
    }),
  scceLogits: (labels: number[], P: Rows) => P.map((p, i) => lse(p) - p[labels[i]]),
  kld: byRow((t, p) =>
    sum(
      p.map((x, j) => {
        const a = clip(t[j], EPS, 1);
        return a * Math.log(a / clip(x, EPS, 1));
      }),
    ),
  ),
  poisson: byRow((t, p) => mean(p.map((x, j) => x - t[j] * Math.log(x + EPS)))),
  cosineSimilarity: byRow((t, p) => {
    const nt = Math.sqrt(Math.max(sum(t.map((v) => v * v)), 1e-12));
    const np = Math.sqrt(Math.max(sum(p.map((v) => v * v)), 1e-12));
    return sum(p.map((x, j) => (t[j] / nt) * (x / np)));
  }),
  binaryAccuracy: (threshold = 0.5) => byRow((t, p) => mean(p.map((x, j) => (t[j] === (x > threshold ? 1 : 0) ? 1 : 0)))),
  categoricalAccuracy: byRow((t, p) => (argmax(t) === argmax(p) ? 1 : 0)),
  sparseCategoricalAccuracy: (labels: number[], P: Rows) => P.map((p, i) => (argmax(p) === labels[i] ? 1 : 0)),
  /** TensorFlow's in_top_k: fewer than k classes score strictly higher than the target. */
  sparseTopK: (k: number) => (labels: number[], P: Rows) => P.map((p, i) => (p.filter((x) => x > p[labels[i]]).length < k ? 1 : 0)),
};

/** Keras SUM_OVER_BATCH_SIZE: weighted sum over the number of per-sample losses. */
export function sumOverBatch(losses: number[], weights?: number[]): number {
  return sum(losses.map((l, i) => l * (weights ? weights[i] : 1))) / losses.length;
}

/** Keras Mean over an epoch: sum(value * weight) / sum(weight). */
export function weightedMean(values: number[], weights?: number[]): number {
  const w = weights ?? values.map(() => 1);
  return sum(values.map((v, i) => v * w[i])) / sum(w);
}

/** `|actual - expected| <= atol + rtol * |expected|`, element-wise. */
export function assertClose(actual: number | ArrayLike<number>, expected: number | ArrayLike<number>, rtol = 1e-5, atol = 1e-6, what = ''): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  assert.equal(a.length, e.length, `${what}: length ${a.length} vs ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const ok = Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]);
    assert.ok(ok, `${what}[${i}]: got ${a[i]}, expected ${e[i]} (rtol ${rtol}, atol ${atol})`);
  }
}
