/** Loads the wasm backend. */
export async function setupWasm(): Promise<void> {
  await import('@tensorflow/tfjs-backend-wasm');
}
