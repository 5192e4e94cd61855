/**
 * Runs the same training eagerly (the reference) and with compiled steps,
 * from the same seeds, and compares what Keras users see: the History and
 * the weights.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { compiledStepsEnabled, enableCompiledSteps, fallbackReason } from '../../src/ops/compiled/index.js';
import type { Model } from '../../src/models/model.js';

export interface Run {
  history: Record<string, number[]>;
  weights: Float32Array[];
  /** Why the compiled run fell back to eager, if it did. */
  fellBack?: string;
}

async function runOnce(compiled: boolean, model: Model, train: (m: Model) => Promise<{ history: Record<string, number[]> }>): Promise<Run> {
  enableCompiledSteps(compiled);
  try {
    const h = await train(model);
    const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
    return { history: h.history, weights, fellBack: fallbackReason(model) };
  } finally {
    enableCompiledSteps(false);
  }
}

/**
 * Trains `build()`'s model eagerly, then from the same weights, optimizer
 * and key compiled. One model serves both: a functional model's dropout
 * keys fold in its graph's node ids, which differ between two models.
 */
export async function eagerAndCompiled(build: () => Model, train: (m: Model) => Promise<{ history: Record<string, number[]> }>): Promise<{ eager: Run; compiled: Run }> {
  const model = build();
  const initial = model.getWeights().map((w) => w.clone());
  const { args } = model.compiled!.compiled;
  const key = model.compiled!.key;
  try {
    const eager = await runOnce(false, model, train);
    model.setWeights(initial);
    model.compile(args);
    model.compiled!.key = key;
    const compiled = await runOnce(true, model, train);
    return { eager, compiled };
  } finally {
    tf.dispose(initial);
    model.dispose();
  }
}

/** Each weight tensor within `tol` relative (in norm), History keys equal and values within `tol` relative. */
export function assertSameTraining(eager: Run, compiled: Run, what: string, tol = 1e-4): void {
  assert.deepEqual(Object.keys(compiled.history).sort(), Object.keys(eager.history).sort(), `${what}: History keys`);
  for (const [k, vs] of Object.entries(eager.history))
    vs.forEach((v, i) => {
      const c = compiled.history[k][i];
      assert.ok(Math.abs(c - v) <= tol * Math.abs(v) + 1e-7, `${what}: ${k}[${i}] compiled ${c} vs eager ${v}`);
    });
  assert.equal(compiled.weights.length, eager.weights.length, `${what}: weight count`);
  eager.weights.forEach((e, i) => {
    const c = compiled.weights[i];
    let diff = 0;
    let norm = 0;
    for (let j = 0; j < e.length; j++) {
      diff += (c[j] - e[j]) ** 2;
      norm += e[j] ** 2;
    }
    assert.ok(Math.sqrt(diff) <= tol * Math.sqrt(norm) + 1e-7, `${what}: weight ${i} differs by ${Math.sqrt(diff / Math.max(norm, 1e-30)).toExponential(2)} relative`);
  });
}

export const numTensors = (): number => tf.memory().numTensors;

/** `f` as a test body that runs with compiled steps on (tests run eagerly unless RXKERAS_BACKEND says otherwise), then as before. */
export function withCompiledSteps(f: () => void | Promise<void>): () => Promise<void> {
  return async () => {
    const was = compiledStepsEnabled();
    enableCompiledSteps(true);
    try {
      await f();
    } finally {
      enableCompiledSteps(was);
    }
  };
}
