import * as tf from '@tensorflow/tfjs-core';

interface EngineState {
  gradientDepth: number;
  activeTape: { saved?: tf.Tensor[] }[] | null;
}

/**
 * When the function given to `tf.grads` throws, tfjs-core 4.22 leaves its
 * gradient tape in place, and the tensors the tape saved for the backward
 * pass are never freed. Call this after such a failure: it frees them, as a
 * successful backward pass would have.
 */
export function releaseAbandonedTape(): void {
  const state = (tf.engine() as unknown as { state: EngineState }).state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) if (!t.isDisposed) t.dispose();
  state.activeTape = null;
}
