import { EmptyDatasetError, InvalidArgumentError } from '../src/core/errors.js';
import { Dataset, FIRST_PASS, type DatasetOperator, type Pass } from './dataset.js';
import { stage, type Upstream } from './internal/stage.js';

/**
 * Concatenates `count` passes (default: forever), re-subscribing the source
 * for each one with its own epoch number, so a shuffle upstream draws a new
 * order every time. Pass `i` of outer epoch `e` is epoch `e * count + i`
 * (just `i` when `count` is infinite). A pass that yields nothing fails with
 * EmptyDatasetError rather than looping forever.
 */
export function repeat<T>(count?: number): DatasetOperator<T, T>;
export function repeat<T>(count = Infinity): DatasetOperator<T, T> {
  if (!(count === Infinity || (Number.isInteger(count) && count >= 0))) throw new InvalidArgumentError('repeat count', 'an integer >= 0 or Infinity', count);
  return (source) =>
    new Dataset<T>(
      (demand, outer = FIRST_PASS) =>
        stage<T>(demand, outer, (io) => {
          let i = 0;
          let up: Upstream | undefined;
          let got = 0;
          const open = (): void => {
            got = 0;
            const pass: Pass = { epoch: Number.isFinite(count) ? outer.epoch * count + i : i };
            up = io.connect(
              source,
              {
                next(v) {
                  got++;
                  io.emit(v);
                },
                complete() {
                  up?.unsubscribe();
                  if (got === 0) throw new EmptyDatasetError('repeat', `pass ${i} yielded no element`);
                  i++;
                  up = undefined;
                },
              },
              pass,
            );
          };
          return {
            pull() {
              if (!up) {
                if (i >= count) {
                  io.complete();
                  return;
                }
                if (io.wanted() <= 0) return;
                open();
              }
              const need = io.wanted() - (up?.outstanding() ?? 0);
              if (need > 0) up?.request(need);
            },
          };
        }),
      Number.isFinite(count) && source.length !== undefined ? { length: source.length * count } : {},
    );
}
