/** A traced kernel without an ONNX lowering (or a case of one that has none): the model falls back to eager. */
export class MissingLoweringError extends Error {
  constructor(readonly kernel: string, detail?: string) {
    super(`kernel '${kernel}' has no lowering for the compiled backend${detail ? ` (${detail})` : ''}`);
    this.name = 'MissingLoweringError';
  }
}

/** A trace that could not run: a read of a value that failed to compute, or ONNX Runtime refusing the graph. */
export class CompiledRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompiledRunError';
  }
}
