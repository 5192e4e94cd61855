import { InvalidArgumentError } from '../src/core/errors.js';
import { Dataset, FIRST_PASS, type DatasetOperator } from './dataset.js';
import { disposeAll } from './element.js';
import { stage } from './internal/stage.js';

/**
 * Reads ahead: keeps up to `depth` elements requested or ready beyond what
 * the consumer asked for, so a slow source works while the consumer computes.
 * Never holds more than `depth` unrequested elements.
 */
export function prefetch<T>(depth: number): DatasetOperator<T, T>;
export function prefetch<T>(depth: number): DatasetOperator<T, T> {
  if (!Number.isInteger(depth) || depth < 0) throw new InvalidArgumentError('prefetch depth', 'an integer >= 0', depth);
  return (source) =>
    new Dataset<T>(
      (demand, pass = FIRST_PASS) =>
        stage<T>(demand, pass, (io) => {
          const buffer: T[] = [];
          const up = io.connect(source, { next: (v) => buffer.push(v) });
          return {
            pull() {
              while (io.wanted() > 0 && buffer.length > 0) io.emit(buffer.shift() as T);
              if (up.isDone()) {
                if (buffer.length === 0) io.complete();
                return;
              }
              const need = Math.max(0, io.wanted()) + depth - buffer.length - up.outstanding();
              if (need > 0) up.request(need);
            },
            teardown() {
              disposeAll(buffer.splice(0));
            },
          };
        }),
      source.info.length === undefined && !source.info.indexed ? {} : { length: source.length },
    );
}
