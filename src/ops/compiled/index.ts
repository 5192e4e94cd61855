export { COMPILED_BACKEND, CompiledBackend, compiledBackend } from './backend.js';
export { compiled } from './region.js';
export { CompiledRunError, MissingLoweringError } from './errors.js';
export { kernelSpecs } from './kernels/index.js';
export { compiledStepsEnabled, enableCompiledSteps, fallbackReason, releaseCompiledSessions, runStep } from './step.js';
export { ortVersion } from '../onnx/session.js';
export { jit, jitted, type Jitted, type JitOptions } from './jit.js';
export { fusedApply, fusedSlotNames, fusedUnavailable, type FusedItem, type FusedRule } from './fused-update.js';
export { inCompiledRegion } from './region.js';
