import { InvalidArgumentError } from '../src/core/errors.js';
import { Dataset, FIRST_PASS, type DatasetOperator } from './dataset.js';
import { indexedDataset, remap } from './internal/indexed.js';
import { stage } from './internal/stage.js';

/** The first `count` elements; then the upstream pass is unsubscribed (and disposes what it holds). */
export function take<T>(count: number): DatasetOperator<T, T>;
export function take<T>(count: number): DatasetOperator<T, T> {
  if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentError('take count', 'an integer >= 0', count);
  return (source) => {
    const base = source.info.indexed;
    if (base) return indexedDataset(remap(base, Math.min(count, base.length), (i) => i), { shuffled: source.info.shuffled });
    return new Dataset<T>(
      (demand, pass = FIRST_PASS) =>
        stage<T>(demand, pass, (io) => {
          let taken = 0;
          if (count === 0) {
            io.complete();
            return { pull() {} };
          }
          const up = io.connect(source, {
            next(v) {
              taken++;
              io.emit(v);
              if (taken >= count) io.complete();
            },
            complete: () => io.complete(),
          });
          return {
            pull() {
              const need = Math.min(io.wanted(), count - taken) - up.outstanding();
              if (need > 0) up.request(need);
            },
          };
        }),
      { shuffled: source.info.shuffled, ...(source.length === undefined ? {} : { length: Math.min(count, source.length) }) },
    );
  };
}
