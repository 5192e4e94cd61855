import type { Dataset } from './dataset.js';
import { toExample, type Example, type ExampleInput } from './element.js';
import { fromAsyncIterable } from './from-async-iterable.js';
import { map } from './map.js';

export type GeneratorFunction<T> = () => Iterator<T> | AsyncIterator<T> | Iterable<T> | AsyncIterable<T>;

/**
 * Keras's `fit_generator` source: a generator function called once per pass,
 * yielding `[x, y]`, `[x, y, sampleWeight]` or `{ x, y, sampleWeight }`
 * (tensors, numbers or nested number arrays). It is advanced only when an
 * element is asked for.
 */
export function fromGenerator(generator: GeneratorFunction<ExampleInput>, options?: { name?: string }): Dataset<Example>;
export function fromGenerator(generator: GeneratorFunction<ExampleInput>, options: { name?: string } = {}): Dataset<Example> {
  const factory = () => {
    const g = generator();
    if (Symbol.asyncIterator in g || Symbol.iterator in g) return g as Iterable<ExampleInput> | AsyncIterable<ExampleInput>;
    const it = g as Iterator<ExampleInput> | AsyncIterator<ExampleInput>;
    return { [Symbol.asyncIterator]: () => it } as AsyncIterable<ExampleInput>;
  };
  return fromAsyncIterable(factory, { name: options.name ?? 'fromGenerator' }).pipe(map((v: ExampleInput) => toExample(v)));
}
