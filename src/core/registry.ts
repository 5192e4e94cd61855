import { AsyncLocalStorage } from 'node:async_hooks';
import { InvalidArgumentError } from './errors.js';

/** How a registry checks and names what it is given, for its error messages. */
export interface RegistryLabels<T> {
  /** The function users call to register ('registerActivation'). */
  register: string;
  /** The name of its name argument (default 'name'; 'className' for classes). */
  nameArgument?: string;
  /** The name of the registered value's argument ('fn', 'fromConfig'). */
  argument: string;
  /** What a value must be ('a function (x) => y'). */
  expected: string;
  /** Whether a value is acceptable (default: a function). */
  isValid?: (value: T) => boolean;
  /** The part of a value an error shows (default: the value). */
  found?: (value: T) => unknown;
}

/** The scoped entries of every registry, innermost scope merged over the outer ones. */
const scopes = new AsyncLocalStorage<Map<Registry<unknown>, Map<string, unknown>>>();

/**
 * Custom objects of one kind (layers, losses, activations, ...) by the name
 * configs use: global registrations (`register`), and scoped ones that hold
 * only while a function runs ({@link withScope}, Keras's
 * `custom_object_scope`), which shadow the global ones.
 */
export class Registry<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly labels: RegistryLabels<T>) {}

  /** Adds (or replaces) `value` under `name` for the whole process, after checking both. */
  register(name: string, value: T): void {
    this.check(name, value);
    this.entries.set(name, value);
  }

  /** Removes a global registration; true when one was there. */
  unregister(name: string): boolean {
    return this.entries.delete(name);
  }

  /** The value for `name`: the innermost scope's, else the global one. */
  get(name: string): T | undefined {
    const scoped = scopes.getStore()?.get(this as Registry<unknown>);
    return (scoped?.get(name) as T | undefined) ?? this.entries.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Every visible (name, value), scoped entries over global ones. */
  all(): [string, T][] {
    const scoped = scopes.getStore()?.get(this as Registry<unknown>) as Map<string, T> | undefined;
    return [...new Map([...this.entries, ...(scoped ?? [])])];
  }

  /** Every visible name, sorted. */
  names(): string[] {
    return this.all()
      .map(([n]) => n)
      .sort();
  }

  /** Throws InvalidArgumentError, worded for the register function, unless `name` and `value` can be registered. */
  check(name: string, value: T): void {
    const { register, nameArgument = 'name', argument, expected, isValid = (v: T) => typeof v === 'function', found = (v: T) => v } = this.labels;
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError(`${register}: ${nameArgument}`, 'a non-empty string', name);
    if (!isValid(value)) throw new InvalidArgumentError(`${register}('${name}'): ${argument}`, expected, found(value));
  }
}

/**
 * Runs `f` with `entries` registered in their registries for the duration
 * of the call only (an async `f`: until its promise settles, across its
 * awaits), shadowing global registrations and outer scopes; concurrent
 * scopes do not see each other's entries. Everything is checked first.
 */
export function withScope<R>(entries: readonly (readonly [Registry<any>, Record<string, unknown>])[], f: () => R): R {
  const scope = new Map(scopes.getStore() ?? []);
  for (const [registry, record] of entries) {
    const merged = new Map(scope.get(registry) ?? []);
    for (const [name, value] of Object.entries(record)) {
      registry.check(name, value);
      merged.set(name, value);
    }
    scope.set(registry, merged);
  }
  return scopes.run(scope, f);
}
