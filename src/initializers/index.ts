import * as t from 'io-ts';
import * as ops from '../ops/index.js';
import { Registry } from '../core/registry.js';
import { decodeConfig, nullable, oneOf } from '../core/config.js';
import { ConfigDecodeError, UnknownNameError } from '../core/errors.js';
import { seedOf, type Key } from '../core/rng.js';

/** A Keras initializer: its serialised form, and a function from (key, shape) to a new tensor. */
export interface Initializer {
  readonly className: string;
  readonly config: Record<string, unknown>;
  init(key: Key, shape: number[]): ops.Tensor;
}

/** What a layer config holds: a Keras name or `{ class_name, config }`. */
export type InitializerSpec = string | { class_name: string; config?: Record<string, unknown> };

const seed = t.partial({ seed: nullable(t.number) });
const codecs = {
  Zeros: t.partial({}),
  Ones: t.partial({}),
  Constant: t.partial({ value: t.number }),
  RandomNormal: t.intersection([seed, t.partial({ mean: t.number, stddev: t.number })]),
  RandomUniform: t.intersection([seed, t.partial({ minval: t.number, maxval: t.number })]),
  TruncatedNormal: t.intersection([seed, t.partial({ mean: t.number, stddev: t.number })]),
  VarianceScaling: t.intersection([
    seed,
    t.partial({
      scale: t.number,
      mode: oneOf(['fan_in', 'fan_out', 'fan_avg']),
      distribution: oneOf(['normal', 'truncated_normal', 'untruncated_normal', 'uniform']),
    }),
  ]),
  Orthogonal: t.intersection([seed, t.partial({ gain: t.number })]),
  Identity: t.partial({ gain: t.number }),
  GlorotNormal: seed,
  GlorotUniform: seed,
  HeNormal: seed,
  HeUniform: seed,
  LecunNormal: seed,
  LecunUniform: seed,
} as const;
type ClassName = keyof typeof codecs;

const ALIASES: Record<string, ClassName> = {
  zeros: 'Zeros', zero: 'Zeros', ones: 'Ones', one: 'Ones', constant: 'Constant',
  random_normal: 'RandomNormal', normal: 'RandomNormal', random_uniform: 'RandomUniform', uniform: 'RandomUniform',
  truncated_normal: 'TruncatedNormal', variance_scaling: 'VarianceScaling', orthogonal: 'Orthogonal',
  identity: 'Identity', glorot_normal: 'GlorotNormal', glorot_uniform: 'GlorotUniform', he_normal: 'HeNormal',
  he_uniform: 'HeUniform', lecun_normal: 'LecunNormal', lecun_uniform: 'LecunUniform',
};

/** The variance-scaling presets, with Keras 2's parameters. */
const PRESETS: Partial<Record<ClassName, [number, 'fan_in' | 'fan_avg', 'truncated_normal' | 'uniform']>> = {
  GlorotNormal: [1, 'fan_avg', 'truncated_normal'],
  GlorotUniform: [1, 'fan_avg', 'uniform'],
  HeNormal: [2, 'fan_in', 'truncated_normal'],
  HeUniform: [2, 'fan_in', 'uniform'],
  LecunNormal: [1, 'fan_in', 'truncated_normal'],
  LecunUniform: [1, 'fan_in', 'uniform'],
};

export const INITIALIZER_NAMES = [...Object.keys(codecs), ...Object.keys(ALIASES)];

/** Resolves a Keras initializer spec; throws UnknownNameError or ConfigDecodeError. */
export function getInitializer(spec: InitializerSpec, where = 'initializer'): Initializer {
  const rawName = typeof spec === 'string' ? spec : spec.class_name;
  const raw = typeof spec === 'string' ? {} : (spec.config ?? {});
  const custom = customInitializers.get(rawName);
  if (custom) return custom(raw);
  const className = (rawName in codecs ? rawName : ALIASES[rawName]) as ClassName | undefined;
  if (!className)
    throw new UnknownNameError(
      'initializer',
      rawName,
      [...INITIALIZER_NAMES, ...customInitializers.names()],
      `Register a custom initializer with registerInitializer('${rawName}', (config) => initializer)`,
    );
  const c = decodeConfig(codecs[className] as t.Decoder<unknown, Record<string, unknown>>, raw, where);
  return build(className, c);
}

/** Builds a custom initializer from its config; its `className` and `config` are what layer configs save. */
export type InitializerFromConfig = (config: Record<string, unknown>) => Initializer;

export const customInitializers = new Registry<InitializerFromConfig>({ register: 'registerInitializer', argument: 'fromConfig', expected: 'a function (config) => Initializer', nameArgument: 'className' });

/**
 * Registers a custom initializer class (Keras's `custom_objects`): a layer
 * config holding `{ class_name: className, config }` (or the bare name)
 * builds it with `fromConfig(config)`. The initializer it returns should
 * carry `className` and its `config`, so that layer configs round-trip.
 */
export function registerInitializer(className: string, fromConfig: InitializerFromConfig): void {
  customInitializers.register(className, fromConfig);
}

/** The names of the registered custom initializers, sorted. */
export function customInitializerNames(): string[] {
  return customInitializers.names();
}

/** The form Keras 2 writes into a layer config. */
export function serializeInitializer(init: Initializer): { class_name: string; config: Record<string, unknown> } {
  return { class_name: init.className, config: init.config };
}

function build(className: ClassName, c: Record<string, unknown>): Initializer {
  const s = (c.seed ?? null) as number | null;
  const seedFor = (key: Key) => (s === null ? seedOf(key) : s);
  const make = (config: Record<string, unknown>, init: Initializer['init']): Initializer => ({ className, config, init });
  switch (className) {
    case 'Zeros':
      return make({}, (_k, shape) => ops.zeros(shape));
    case 'Ones':
      return make({}, (_k, shape) => ops.ones(shape));
    case 'Constant': {
      const value = (c.value as number | undefined) ?? 0;
      return make({ value }, (_k, shape) => ops.fill(shape, value));
    }
    case 'RandomNormal': {
      const mean = (c.mean as number | undefined) ?? 0;
      const stddev = (c.stddev as number | undefined) ?? 0.05;
      return make({ mean, stddev, seed: s }, (k, shape) => ops.randomNormal(shape, mean, stddev, 'float32', seedFor(k)));
    }
    case 'RandomUniform': {
      const minval = (c.minval as number | undefined) ?? -0.05;
      const maxval = (c.maxval as number | undefined) ?? 0.05;
      return make({ minval, maxval, seed: s }, (k, shape) => ops.randomUniform(shape, minval, maxval, 'float32', seedFor(k)));
    }
    case 'TruncatedNormal': {
      const mean = (c.mean as number | undefined) ?? 0;
      const stddev = (c.stddev as number | undefined) ?? 0.05;
      return make({ mean, stddev, seed: s }, (k, shape) => ops.truncatedNormal(shape, mean, stddev, 'float32', seedFor(k)));
    }
    case 'VarianceScaling': {
      const scale = (c.scale as number | undefined) ?? 1;
      const mode = (c.mode as string | undefined) ?? 'fan_in';
      // Keras 2.2 wrote 'normal' for what tf.keras calls 'truncated_normal'.
      const dist = (c.distribution as string | undefined) ?? 'truncated_normal';
      if (scale <= 0) throw new ConfigDecodeError('scale', 'a positive number', scale, 'VarianceScaling');
      return make({ scale, mode, distribution: dist, seed: s }, (k, shape) =>
        varianceScaling(shape, scale, mode, dist, seedFor(k)),
      );
    }
    case 'Orthogonal': {
      const gain = (c.gain as number | undefined) ?? 1;
      return make({ gain, seed: s }, (k, shape) => orthogonal(shape, gain, seedFor(k)));
    }
    case 'Identity': {
      const gain = (c.gain as number | undefined) ?? 1;
      return make({ gain }, (_k, shape) => {
        if (shape.length !== 2) throw new ConfigDecodeError('shape', 'a 2D weight for Identity', shape, 'Identity');
        return ops.mul(ops.eye(shape[0], shape[1]), gain);
      });
    }
    default: {
      const [scale, mode, dist] = PRESETS[className]!;
      return make({ seed: s }, (k, shape) => varianceScaling(shape, scale, mode, dist, seedFor(k)));
    }
  }
}

/** Keras's fan computation: conv kernels multiply by the receptive field size. */
export function computeFans(shape: number[]): [number, number] {
  if (shape.length < 1) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2] * receptive, shape[shape.length - 1] * receptive];
}

function varianceScaling(shape: number[], scale: number, mode: string, dist: string, seed: number): ops.Tensor {
  const [fanIn, fanOut] = computeFans(shape);
  const n = mode === 'fan_in' ? fanIn : mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
  const s = scale / Math.max(1, n);
  if (dist === 'uniform') {
    const limit = Math.sqrt(3 * s);
    return ops.randomUniform(shape, -limit, limit, 'float32', seed);
  }
  if (dist === 'untruncated_normal') return ops.randomNormal(shape, 0, Math.sqrt(s), 'float32', seed);
  // Std of a unit normal truncated to [-2, 2]: Keras divides by it to keep the variance.
  return ops.truncatedNormal(shape, 0, Math.sqrt(s) / 0.8796256610342398, 'float32', seed);
}

function orthogonal(shape: number[], gain: number, seed: number): ops.Tensor {
  return ops.tidy(() => {
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const cols = shape[shape.length - 1];
    const flat: [number, number] = rows < cols ? [cols, rows] : [rows, cols];
    const a = ops.randomNormal(flat, 0, 1, 'float32', seed) as ops.Tensor<ops.Rank.R2>;
    const [q, r] = ops.linalg.qr(a);
    const d = ops.sign(ops.sum(ops.linalg.bandPart(r, 0, 0), 0));
    let out = ops.mul(q, d);
    if (rows < cols) out = ops.transpose(out);
    return ops.reshape(ops.mul(out, gain), shape);
  });
}
