/** Kernels the wasm backend lacks, built from kernels it has. */
export function registerWasmKernels(): void {}
