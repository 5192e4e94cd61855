import { Dataset, FIRST_PASS, type DatasetOperator } from './dataset.js';
import { disposeAll, unstackElement } from './element.js';
import { disposeTree } from '../src/core/tree.js';
import { stage } from './internal/stage.js';

/** Splits each batched element into its rows (the inverse of `batch`). Asks for the next batch only when its rows are used up. */
export function unbatch<T>(): DatasetOperator<T, T>;
export function unbatch<T>(): DatasetOperator<T, T> {
  return (source) =>
    new Dataset<T>((demand, pass = FIRST_PASS) =>
      stage<T>(demand, pass, (io) => {
        const rows: T[] = [];
        const up = io.connect(source, {
          next(b) {
            try {
              rows.push(...unstackElement(b));
            } finally {
              disposeTree(b);
            }
          },
        });
        return {
          pull() {
            while (io.wanted() > 0 && rows.length > 0) io.emit(rows.shift() as T);
            if (rows.length > 0 || io.wanted() <= 0) return;
            if (up.isDone()) io.complete();
            else if (up.outstanding() === 0) up.request(1);
          },
          teardown() {
            disposeAll(rows.splice(0));
          },
        };
      }),
    );
}
