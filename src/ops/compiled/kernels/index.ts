import type { KernelSpec } from './kernel.js';
import { convKernels } from './conv.js';
import { elementwiseKernels } from './elementwise.js';
import { matmulKernels } from './matmul.js';
import { poolKernels } from './pool.js';
import { reduceKernels } from './reduce.js';
import { shapeKernels } from './shape.js';

export type { KernelSpec, LowerContext, Meta } from './kernel.js';
export { CUSTOM_DOMAIN } from './kernel.js';

/** Every kernel the compiled backend traces, by tfjs kernel name. */
export const kernelSpecs: ReadonlyMap<string, KernelSpec> = new Map(
  [...elementwiseKernels, ...reduceKernels, ...shapeKernels, ...matmulKernels, ...convKernels, ...poolKernels].map((k) => [k.name, k]),
);
