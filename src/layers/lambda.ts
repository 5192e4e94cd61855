import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { nullable } from '../core/config.js';
import { RxKerasError } from '../core/errors.js';
import { Registry } from '../core/registry.js';
import { isShapeList } from './symbolic.js';
import { decodeLayerConfig, defineLayer } from './define-layer.js';
import type { ApplyOptions, Layer, Shape, Shapes, Tensors } from './layer.js';

/** A pure function a `Lambda` layer wraps: tensors in, tensors out, no tensor retained. */
export type LambdaFunction = (inputs: Tensors, args: Record<string, unknown>, options: { training: boolean }) => Tensors;

export interface LambdaOptions {
  /** The output shape: a fixed shape without the batch dim (as Keras's `output_shape` tuple), or a function of the input shape(s) (with batch). */
  outputShape?: (number | null)[] | ((inputShape: Shapes) => Shapes);
  /** The output mask (Keras's `mask` argument); none by default, as in Keras. */
  mask?: (inputs: Tensors, mask: ApplyOptions['mask']) => ops.Tensor | null | (ops.Tensor | null)[];
}

interface Registered {
  fn: LambdaFunction;
  options: LambdaOptions;
}

/**
 * A `Lambda` config that names no registered function: Python bytecode from
 * Keras (never run), or a name nothing was registered under.
 */
export class LambdaFunctionError extends RxKerasError {
  constructor(
    readonly layerName: string,
    readonly functionType: string,
    readonly functionName: string | null,
  ) {
    super(
      functionType === 'function' && functionName !== null
        ? `Lambda layer '${layerName}': no function is registered as '${functionName}' (nor as '${layerName}'). ` +
            `Register a TypeScript function first: registerLambda('${functionName}', fn).`
        : `Lambda layer '${layerName}': its config holds Python code (function_type '${functionType}'), which rxkeras never runs. ` +
            `Register a TypeScript replacement under the layer's name before loading: registerLambda('${layerName}', fn, { outputShape }).`,
    );
  }
}

/** The table from a name (a function name, or a Lambda layer's name for a replacement) to a pure function. */
export const customLambdas = new Registry<Registered>({
  register: 'registerLambda',
  argument: 'fn',
  expected: 'a function',
  isValid: (r) => typeof r?.fn === 'function',
  found: (r) => r?.fn,
});

/** Registers (or replaces) a pure TypeScript function for `Lambda` layers, by name. */
export function registerLambda(name: string, fn: LambdaFunction, options: LambdaOptions = {}): void {
  customLambdas.register(name, { fn, options });
}

/** Removes a registered function; true when one was there. */
export function unregisterLambda(name: string): boolean {
  return customLambdas.unregister(name);
}

/** Every registered name, sorted. */
export function knownLambdas(): string[] {
  return customLambdas.names();
}

const fields = t.partial({
  function: t.unknown,
  function_type: t.string,
  module: nullable(t.string),
  output_shape: t.unknown,
  output_shape_type: nullable(t.string),
  output_shape_module: nullable(t.string),
  arguments: nullable(t.UnknownRecord),
});
export type LambdaArgs = t.TypeOf<typeof fields> & Record<string, unknown>;

/**
 * Keras `Lambda`, for named pure TypeScript functions: `Lambda({ function: 'double' })`
 * wraps the function registered with `registerLambda('double', fn)`, and its
 * config is Keras's (`function` the name, `function_type` 'function', the
 * `arguments` passed to the function), so Keras loads it given a function of
 * that name in `custom_objects`. A Keras config whose function is Python
 * bytecode (`function_type` 'lambda') is refused with LambdaFunctionError
 * unless a replacement is registered under the layer's name; nothing from a
 * config is ever executed. The output shape comes from the registration, else
 * a raw `output_shape` in the config, else from running the function once on
 * zeros (unknown dims as 1; the batch dim stays unknown).
 */
export function Lambda(args: LambdaArgs): Layer {
  const c = decodeLayerConfig('Lambda', fields, args);
  const functionType = c.function_type ?? 'function';
  const functionName = typeof c.function === 'string' ? c.function : null;
  const found = customLambdas.get(c.name) ?? (functionType === 'function' && functionName !== null ? customLambdas.get(functionName) : undefined);
  if (!found) throw new LambdaFunctionError(c.name, functionType, functionName);
  const config = {
    ...c,
    function: c.function,
    function_type: functionType,
    module: c.module ?? null,
    output_shape: c.output_shape ?? null,
    output_shape_type: c.output_shape_type ?? 'raw',
    output_shape_module: c.output_shape_module ?? null,
    arguments: c.arguments ?? {},
  };
  const { fn, options } = found;
  const rawShape =
    config.output_shape_type === 'raw' && Array.isArray(config.output_shape) && config.output_shape.every((d) => d === null || typeof d === 'number')
      ? (config.output_shape as (number | null)[])
      : null;
  const batchOf = (s: Shapes): number | null => (isShapeList(s) ? (s[0][0] ?? null) : (s[0] ?? null));
  const outShape = (s: Shapes): Shapes => {
    if (typeof options.outputShape === 'function') return options.outputShape(s);
    const fixed = options.outputShape ?? rawShape;
    if (fixed) return [batchOf(s), ...fixed];
    // Keras traces the function on a placeholder; rxkeras runs it once on zeros.
    const shapes = isShapeList(s) ? s : [s];
    const ys = ops.tidy(() => {
      const xs = shapes.map((sh) => ops.zeros(sh.map((d) => d ?? 1)));
      const out = fn(isShapeList(s) ? xs : xs[0], config.arguments, { training: false });
      return Array.isArray(out) ? out : [out];
    });
    const result = ys.map((y) => [batchOf(s), ...y.shape.slice(1)] as Shape);
    ops.dispose(ys);
    return result.length === 1 ? result[0] : result;
  };
  return defineLayer('Lambda', config, {
    init: (_key, inputShape) => ({ params: {}, state: {}, outputShape: outShape(inputShape) }),
    apply(_params, state, inputs, applyOptions) {
      const outputs = ops.tidy(() => fn(inputs, config.arguments, { training: applyOptions.training }));
      return { outputs, state };
    },
    computeOutputShape: outShape,
    ...(options.mask ? { computeMask: options.mask } : {}),
  });
}
