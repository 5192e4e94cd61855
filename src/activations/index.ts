import * as ops from '../ops/index.js';
import { Registry } from '../core/registry.js';
import { UnknownNameError } from '../core/errors.js';

export type ActivationFn = (x: ops.Tensor) => ops.Tensor;

/** Keras 2's activation functions by their config names. */
const ACTIVATIONS: Record<string, ActivationFn> = {
  linear: (x) => x,
  relu: (x) => ops.relu(x),
  relu6: (x) => ops.relu6(x),
  sigmoid: (x) => ops.sigmoid(x),
  hard_sigmoid: (x) => ops.clipByValue(ops.add(ops.mul(x, 0.2), 0.5), 0, 1),
  tanh: (x) => ops.tanh(x),
  softmax: (x) => ops.softmax(x, -1),
  softplus: (x) => ops.softplus(x),
  softsign: (x) => ops.div(x, ops.add(ops.abs(x), 1)),
  elu: (x) => ops.elu(x),
  selu: (x) => ops.selu(x),
  exponential: (x) => ops.exp(x),
  swish: (x) => ops.mul(x, ops.sigmoid(x)),
  gelu: (x) => ops.mul(ops.mul(x, 0.5), ops.add(ops.erf(ops.mul(x, Math.SQRT1_2)), 1)),
};

export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS);

/** The activation called `name` (Keras config value; null or undefined means linear). */
export function getActivation(name: string | null | undefined): ActivationFn {
  const fn = customActivations.get(name ?? 'linear') ?? ACTIVATIONS[name ?? 'linear'];
  if (!fn)
    throw new UnknownNameError(
      'activation',
      String(name),
      [...ACTIVATION_NAMES, ...customActivations.names()],
      `Register a custom activation with registerActivation('${String(name)}', (x) => y)`,
    );
  return fn;
}

export function isActivationName(name: string): boolean {
  return name in ACTIVATIONS || customActivations.has(name);
}

export const customActivations = new Registry<ActivationFn>({ register: 'registerActivation', argument: 'fn', expected: 'a function (x) => y' });

/** Registers a custom activation by name (Keras's `custom_objects`): layer configs naming it resolve to `fn`. */
export function registerActivation(name: string, fn: ActivationFn): void {
  customActivations.register(name, fn);
}

/** Keras activations that tfjs fuses into matMul / conv2d kernels, by their tfjs names. */
const FUSABLE: Record<string, 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid'> = {
  linear: 'linear', relu: 'relu', relu6: 'relu6', elu: 'elu', sigmoid: 'sigmoid',
};

/** The fused-kernel form of a Keras activation, or undefined when it has none (apply it separately). */
export function fusedActivation(name: string | null | undefined): 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid' | undefined {
  return FUSABLE[name ?? 'linear'];
}
