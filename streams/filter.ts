import { Dataset, FIRST_PASS, type DatasetOperator } from './dataset.js';
import { disposeTree } from '../src/core/tree.js';
import { stage } from './internal/stage.js';

/** Keeps the elements for which `predicate` holds; the others are disposed. The result is a stream (no random access). */
export function filter<T, S extends T>(predicate: (value: T, index: number) => value is S): DatasetOperator<T, S>;
export function filter<T>(predicate: (value: T, index: number) => boolean): DatasetOperator<T, T>;
export function filter<T>(predicate: (value: T, index: number) => boolean): DatasetOperator<T, T> {
  return (source) =>
    new Dataset<T>(
      (demand, pass = FIRST_PASS) =>
        stage<T>(demand, pass, (io) => {
          let index = 0;
          const up = io.connect(source, {
            next(v) {
              let keep: boolean;
              try {
                keep = predicate(v, index++);
              } catch (err) {
                disposeTree(v);
                throw err;
              }
              if (keep) io.emit(v);
              else disposeTree(v);
            },
            complete: () => io.complete(),
          });
          return {
            pull() {
              const need = io.wanted() - up.outstanding();
              if (need > 0) up.request(need);
            },
          };
        }),
      { shuffled: source.info.shuffled },
    );
}
