import * as tf from '@tensorflow/tfjs-core';
import { TestScheduler } from 'rxjs/testing';
import assert from 'node:assert/strict';
import type { Compiled } from '../../src/training/compile.js';
import type { Module } from '../../src/training/module.js';
import type { TensorTree } from '../../src/core/tree.js';
import type { FitEvent, FitParams, TrainingControl } from '../../src/training/events.js';
import type { Logs, TrainState } from '../../src/training/types.js';

const EMPTY_TRAIN: TrainState = { params: {}, state: {}, optState: undefined, step: 0, key: 0 };

export const scheduler = () => new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));

/** A control object that records what callbacks ask of the loop, with the virtual frame when a clock is given. */
export class FakeControl implements TrainingControl {
  readonly calls: (string | number)[][] = [];
  weights: { params: TensorTree; state: TensorTree } | undefined;
  private stopped = false;
  state: TrainState = EMPTY_TRAIN;
  constructor(
    public lr = 0.1,
    private readonly clock: () => number = () => -1,
  ) {}
  getLearningRate(): number {
    return this.lr;
  }
  setLearningRate(lr: number): void {
    this.lr = lr;
    this.calls.push([this.clock(), 'lr', lr]);
  }
  setWeights(params: TensorTree, state: TensorTree): void {
    this.weights = { params, state };
    this.calls.push([this.clock(), 'setWeights']);
  }
  stop(): void {
    this.stopped = true;
    this.calls.push([this.clock(), 'stop']);
  }
  get stopRequested(): boolean {
    return this.stopped;
  }
  /** Records a mark in the same list, to check orders. */
  mark(what: string): void {
    this.calls.push([this.clock(), what]);
  }
}


export function params(epochs: number, steps: number | undefined): FitParams {
  return { epochs, initialEpoch: 0, steps, samples: steps === undefined ? undefined : steps * 4, batchSize: 4, verbose: 0, metrics: ['loss'] };
}

/** Synthetic events of one fit, all with the same control. */
export function events(control: TrainingControl) {
  return {
    fitStart: (epochs = 5, steps: number | undefined = 2, module = {} as Module, compiled = {} as Compiled): FitEvent => ({ type: 'fitStart', params: params(epochs, steps), module, compiled, control }),
    epochStart: (epoch: number): FitEvent => ({ type: 'epochStart', epoch, control }),
    batchEnd: (epoch: number, batch: number, logs: Logs, size = 4, train: TrainState = EMPTY_TRAIN): FitEvent => ({ type: 'batchEnd', epoch, batch, size, logs, train, control }),
    epochEnd: (epoch: number, logs: Logs, train: TrainState = EMPTY_TRAIN): FitEvent => ({ type: 'epochEnd', epoch, logs, train, control }),
    fitEnd: (logs: Logs = {}, train: TrainState = EMPTY_TRAIN): FitEvent => ({ type: 'fitEnd', logs, train, control }),
  };
}

/** A training state whose single weight holds `value` (for restore tests). */
export function trainWith(value: number): TrainState {
  return { params: { dense: { kernel: tf.scalar(value) } }, state: {}, optState: undefined, step: 0, key: 0 };
}

/** Collects what is written, as a fake stdout. */
export class FakeStream {
  text = '';
  constructor(public isTTY = false) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}
