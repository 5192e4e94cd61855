import http from 'node:http';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as rx from '../../src/index.js';
import type { Rows } from '../../src/serving/rows.js';

/** A small real model: 4 inputs -> Dense(8, relu) -> Dense(3, softmax), seeded weights. */
export function smallModel(seed = 1): rx.Sequential {
  const model = new rx.Sequential({
    layers: [rx.Dense({ units: 8, activation: 'relu', input_shape: [4] }), rx.Dense({ units: 3, activation: 'softmax' })],
  });
  model.build(seed);
  return model;
}

/** Seeded pseudo-random numbers in [-1, 1) (mulberry32), so failures reproduce. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** `n` rows of `width` numbers. */
export function randomRows(rand: () => number, n: number, width: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: width }, () => Math.fround(rand())));
}

export function toRows(rows: number[][]): Rows {
  return { data: Float32Array.from(rows.flat()), shape: [rows.length, rows[0].length] };
}

/** What `model.predict` gives for these rows alone, as nested arrays. */
export function predictAlone(model: rx.Model, rows: number[][]): number[][] {
  const x = tf.tensor2d(rows);
  const y = model.predict(x) as tf.Tensor;
  const out = y.arraySync() as number[][];
  tf.dispose([x, y]);
  return out;
}

/** Nested arrays equal within `tol` (absolute), with the path of the first difference. */
export function assertClose(actual: unknown, expected: unknown, tol = 1e-6, path = ''): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal((actual as unknown[]).length, expected.length, `${path}: length`);
    expected.forEach((e, i) => assertClose((actual as unknown[])[i], e, tol, `${path}[${i}]`));
  } else assert.ok(Math.abs((actual as number) - (expected as number)) <= tol, `${path}: ${actual} vs ${expected}`);
}

/** Resolves after `ms`, or rejects with `what` when `promise` does not settle first. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
  ]);
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One HTTP request over `agent` (keep-alive, bounded sockets); rejects on a socket error or after 30 s. */
export function request(url: string, options: { method?: string; body?: string; agent?: http.Agent; signal?: AbortSignal } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? (options.body === undefined ? 'GET' : 'POST'), agent: options.agent, signal: options.signal, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in 30 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

