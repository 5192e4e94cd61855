import { CompiledRunError, MissingLoweringError } from './errors.js';
import { compiled } from './region.js';
import { compiledBackend } from './backend.js';
import { UnsupportedDtypeError } from './trace.js';

let enabled = false;
const fellBack = new WeakMap<object, string>();

/** Turns compiled steps on or off for the process (initBackend turns them on when it chooses 'compiled'). */
export function enableCompiledSteps(on: boolean): void {
  enabled = on;
}

export function compiledStepsEnabled(): boolean {
  return enabled;
}

/** Why `owner`'s steps run eagerly, if they fell back. */
export function fallbackReason(owner: object): string | undefined {
  return fellBack.get(owner);
}

/**
 * Runs one pure step (training, evaluation or prediction) of `owner` (a
 * model) compiled when compiled steps are on. A kernel without a lowering,
 * a dtype the runtime lacks, or a graph ONNX Runtime refuses makes that
 * model fall back to eager for good: said once on stderr, with the reason,
 * and the step is run again eagerly (steps are pure: nothing was committed).
 */
export function runStep<T>(owner: object, label: string, fn: () => T): T {
  if (!enabled || fellBack.has(owner)) return fn();
  try {
    return compiled(fn);
  } catch (error) {
    if (!(error instanceof MissingLoweringError || error instanceof CompiledRunError || error instanceof UnsupportedDtypeError)) throw error;
    fellBack.set(owner, error.message);
    if (!process.env.RXKERAS_QUIET) process.stderr.write(`rxkeras: ${label} runs eagerly: ${error.message}\n`);
    return fn();
  }
}

/** Frees every compiled session (the end of a fit); later steps compile again. */
export function releaseCompiledSessions(): void {
  if (enabled) compiledBackend().cache.clear();
}
