import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { ConfigDecodeError } from './errors.js';

/**
 * Decodes a Keras config with an io-ts codec, throwing a ConfigDecodeError
 * that names the first bad field's path, what it expected and what it got.
 */
export function decodeConfig<A>(codec: t.Decoder<unknown, A>, raw: unknown, where: string): A {
  const result = codec.decode(raw);
  if (isLeft(result)) {
    const error = result.left[0];
    // Union and intersection members add their index to the context; only field names and array indices are path parts.
    const path = error.context
      .filter((c, i) => i > 0 && c.key !== '' && !isCombinator(error.context[i - 1].type))
      .map((c) => c.key)
      .join('.');
    const expected = error.message ?? error.context[error.context.length - 1]?.type.name ?? 'a valid value';
    throw new ConfigDecodeError(path || '(root)', expected, error.value, where);
  }
  return result.right;
}

/** `T | null`, as Keras writes absent optional values. */
export const nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null]);

/** Keras tuples arrive as JSON arrays (and YAML !!python/tuple); a bare int means the same value on every axis. */
export const intOrTuple = t.union([t.number, t.array(t.number)]);

export const shapeCodec = t.array(nullable(t.number));

/** `n` integers from a Keras "int or tuple of n ints" argument. */
export function tupleOf(value: number | number[], n: number, field: string, where: string): number[] {
  const out = typeof value === 'number' ? new Array<number>(n).fill(value) : value;
  if (out.length !== n || out.some((v) => !Number.isInteger(v)))
    throw new ConfigDecodeError(field, `an integer or a list of ${n} integers`, value, where);
  return out;
}

/** A codec that only accepts one of the given strings. */
export function oneOf<const T extends readonly string[]>(values: T, name = values.map((v) => `'${v}'`).join(' | ')) {
  return new t.Type<T[number], T[number], unknown>(
    name,
    (u): u is T[number] => typeof u === 'string' && values.includes(u),
    (u, c) => (typeof u === 'string' && values.includes(u) ? t.success(u) : t.failure(u, c, `one of ${name}`)),
    t.identity,
  );
}

function isCombinator(type: t.Decoder<unknown, unknown>): boolean {
  return type instanceof t.UnionType || type instanceof t.IntersectionType;
}
